import { defineEntity, type InferEntity } from '@mikro-orm/postgresql';

/**
 * pending: waiting for its (next) attempt at `nextAttemptAt`; sending: claimed by a replica until
 * `claimedUntil` (committed before the send starts); sent / failed: final.
 */
export const DELIVERY_STATES = ['pending', 'sending', 'sent', 'failed'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

/**
 * One event to one channel. UNIQUE(event id, channel name) is the deduplication key: an event
 * redelivered by JetStream, or routed again by another replica, finds its row and sends nothing more.
 * The event itself is kept so retries and digests do not depend on the stream.
 */
export const NotificationDelivery = defineEntity({
  name: 'NotificationDelivery',
  tableName: 'notification_deliveries',
  properties: (p) => ({
    id: p.uuid().primary(),
    eventId: p.uuid(),
    eventKind: p.string(),
    summary: p.text(),
    event: p.json<Record<string, unknown>>(),
    channelName: p.string().length(100).index(),
    channelKind: p.string(),
    state: p.enum([...DELIVERY_STATES]),
    attempts: p.integer(),
    nextAttemptAt: p.datetime().nullable(),
    claimedUntil: p.datetime().nullable(),
    claimedBy: p.string().nullable(),
    lastError: p.text().nullable(),
    /** Multi-part deliveries (one email per approver): the parts already accepted by the provider. */
    partsDone: p.json<string[]>(),
    providerMessageId: p.text().nullable(),
    createdAt: p.datetime().index(),
    updatedAt: p.datetime(),
    sentAt: p.datetime().nullable(),
  }),
  uniques: [{ properties: ['eventId', 'channelName'] }],
  indexes: [
    // The sender's "what is due" query looks only at unfinished rows.
    { name: 'notification_deliveries_due', expression: `create index "notification_deliveries_due" on "notification_deliveries" ("next_attempt_at") where "state" in ('pending', 'sending')` },
  ],
});
export type NotificationDelivery = InferEntity<typeof NotificationDelivery>;
