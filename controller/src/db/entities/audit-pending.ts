import { defineEntity, type InferEntity } from '@mikro-orm/postgresql';

/**
 * An audit entry written in the transaction of the change it records and not chained yet: the audit
 * sequencer moves it into audit_events (seq, prev_hash, hash) moments after its transaction commits.
 */
export const AuditPending = defineEntity({
  name: 'AuditPending',
  tableName: 'audit_pending',
  properties: (p) => ({
    id: p.bigint('number').primary().autoincrement(),
    at: p.datetime(),
    actor: p.string(),
    action: p.string(),
    targetType: p.string(),
    targetId: p.string().nullable(),
    before: p.json<unknown>().nullable(),
    after: p.json<unknown>().nullable(),
  }),
});
export type AuditPending = InferEntity<typeof AuditPending>;
