// Request and response shapes of the notification routes (channels, deliveries, test sends). Like
// schemas.ts this imports nothing but zod and the event kinds, so certflowctl can use the types.
import { z } from 'zod';
import { EVENT_KINDS } from '../events/certflow-event.js';

const timestamp = z.string().meta({ format: 'date-time', example: '2026-01-31T12:00:00.000Z' });
const queryInt = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** Channel names are slugs, the same as the names template rules use. */
export const channelName = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'expected a lower-case slug (a-z, 0-9, ".", "_", "-"), at most 63 characters');
export const channelNameParams = z.strictObject({ name: channelName });

const CHANNEL_KIND_NAMES = ['email', 'snmp', 'webhook', 'syslog'] as const;
const eventSelector = z.enum([...EVENT_KINDS, '*']);

const settings = {
  defaultEvents: z.array(eventSelector).max(EVENT_KINDS.length + 1).meta({
    description: "Event kinds sent to this channel when a template's rules say nothing about them ('*' = every kind but test)",
  }),
  enabled: z.boolean(),
  maxAttempts: z.int().min(1).max(20).meta({ description: 'Attempts before a delivery is failed for good' }),
  retryBackoffSeconds: z.int().min(1).max(3600).meta({ description: 'Wait before the first retry; doubles each time, at most an hour' }),
  timeoutSeconds: z.int().min(1).max(300).meta({ description: 'One attempt fails when the receiver has not accepted within this' }),
};

const config = z.record(z.string(), z.unknown()).meta({ description: 'Settings of the channel kind (see docs/notifications.md)' });
const secrets = z.record(z.string(), z.string()).meta({ description: 'Sealed under the master key; never shown again' });

export const createChannelBody = z.strictObject({
  name: channelName,
  kind: z.enum(CHANNEL_KIND_NAMES),
  config,
  secrets: secrets.optional(),
  defaultEvents: settings.defaultEvents.optional(),
  enabled: settings.enabled.optional(),
  maxAttempts: settings.maxAttempts.optional(),
  retryBackoffSeconds: settings.retryBackoffSeconds.optional(),
  timeoutSeconds: settings.timeoutSeconds.optional(),
});

export const updateChannelBody = z.strictObject({
  config: config.optional().meta({ description: 'Replaces the whole config' }),
  secrets: z.record(z.string(), z.string().nullable()).optional().meta({ description: 'Sets these secrets; null removes one; others are kept' }),
  defaultEvents: settings.defaultEvents.optional(),
  enabled: settings.enabled.optional(),
  maxAttempts: settings.maxAttempts.optional(),
  retryBackoffSeconds: settings.retryBackoffSeconds.optional(),
  timeoutSeconds: settings.timeoutSeconds.optional(),
});

export const channelSummarySchema = z.object({
  id: z.uuid(),
  name: z.string(),
  kind: z.enum(CHANNEL_KIND_NAMES),
  config,
  secretNames: z.array(z.string()).meta({ description: 'Which secrets are set (never their values)' }),
  defaultEvents: z.array(z.string()),
  enabled: z.boolean(),
  maxAttempts: z.int(),
  retryBackoffSeconds: z.int(),
  timeoutSeconds: z.int(),
  auditForwardedSeq: z.int().nullable().meta({ description: 'Syslog audit forwarding: the last audit entry sent' }),
  createdAt: timestamp,
  updatedAt: timestamp,
});
export type ChannelSummary = z.infer<typeof channelSummarySchema>;
export const channelList = z.object({ items: z.array(channelSummarySchema) });

export const DELIVERY_STATE_NAMES = ['pending', 'sending', 'sent', 'failed'] as const;

export const deliverySchema = z.object({
  id: z.uuid(),
  eventId: z.uuid(),
  eventKind: z.string(),
  summary: z.string(),
  channel: z.string(),
  channelKind: z.string(),
  state: z.enum(DELIVERY_STATE_NAMES),
  attempts: z.int(),
  nextAttemptAt: timestamp.nullable().meta({ description: 'pending: when it is tried again; sending: when the claim runs out' }),
  lastError: z.string().nullable(),
  providerMessageId: z.string().nullable(),
  createdAt: timestamp,
  updatedAt: timestamp,
  sentAt: timestamp.nullable(),
});
export type DeliverySummary = z.infer<typeof deliverySchema>;

export const listDeliveriesQuery = z.strictObject({
  state: z.enum(DELIVERY_STATE_NAMES).optional(),
  channel: channelName.optional(),
  eventId: z.uuid().optional(),
  eventKind: z.enum(EVENT_KINDS).optional(),
  limit: queryInt(1, 500).default(50),
  offset: queryInt(0, 1_000_000_000).default(0),
});

export const deliveryPage = z.object({ items: z.array(deliverySchema), total: z.int(), limit: z.int(), offset: z.int() });
export type DeliveryPage = z.infer<typeof deliveryPage>;
