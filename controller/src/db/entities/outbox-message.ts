import { defineEntity, type InferEntity } from '@mikro-orm/postgresql';

/**
 * The transactional outbox: a message written in the same transaction as the state change it follows
 * from. The relay publishes it to JetStream with `msgId` as the message id (duplicates are dropped there).
 */
export const OutboxMessage = defineEntity({
  name: 'OutboxMessage',
  tableName: 'outbox',
  properties: (p) => ({
    id: p.bigint().primary().autoincrement(),
    msgId: p.string().unique(),
    subject: p.string(),
    payload: p.json<Record<string, unknown>>(),
    createdAt: p.datetime(),
    publishedAt: p.datetime().nullable(),
  }),
  indexes: [
    { name: 'outbox_unpublished', expression: 'create index "outbox_unpublished" on "outbox" ("id") where "published_at" is null' },
  ],
});
export type OutboxMessage = InferEntity<typeof OutboxMessage>;
