import { defineEntity, type InferEntity } from '@mikro-orm/postgresql';

/**
 * One operation in the append-only audit trail. `hash` covers this entry's fields and the previous
 * entry's hash, so editing or deleting any entry breaks the chain from there on.
 */
export const AuditEvent = defineEntity({
  name: 'AuditEvent',
  tableName: 'audit_events',
  properties: (p) => ({
    seq: p.bigint('number').primary().autoincrement(),
    at: p.datetime().index(),
    /** Who: an admin token's name ("token:<name>"), an agent ("agent:<id>") or the controller itself. */
    actor: p.string().index(),
    action: p.string().index(),
    targetType: p.string(),
    targetId: p.string().nullable().index(),
    before: p.json<unknown>().nullable(),
    after: p.json<unknown>().nullable(),
    prevHash: p.string(),
    hash: p.string(),
  }),
});
export type AuditEvent = InferEntity<typeof AuditEvent>;
