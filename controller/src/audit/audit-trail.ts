// The audit trail: append-only and hash-chained. Appends take a transaction-scoped advisory lock, so
// entries from every replica form one chain; they are meant to run inside the transaction of the change
// they record, so a change and its audit entry commit (or roll back) together.
import type { EntityManager } from '@mikro-orm/postgresql';
import { auditHash, GENESIS_HASH, type AuditFields } from './audit-hash.js';

/** An arbitrary constant naming the audit chain's advisory lock. */
const AUDIT_LOCK_KEY = 0x63667461; // "cfta"

export interface AuditInput {
  actor: string;
  action: string;
  targetType: string;
  targetId?: string | null;
  before?: unknown;
  after?: unknown;
}

export async function appendAudit(em: EntityManager, input: AuditInput): Promise<{ seq: number; hash: string }> {
  return em.transactional(async (tx) => {
    await tx.execute('select pg_advisory_xact_lock(?)', [AUDIT_LOCK_KEY]);
    const [last] = await tx.execute<{ seq: string; hash: string }[]>('select seq, hash from audit_events order by seq desc limit 1');
    // Milliseconds only: what JSON and Postgres both keep exactly, so verification recomputes the same hash.
    const at = new Date(Math.floor(Date.now()));
    const fields: AuditFields = {
      seq: last ? Number(last.seq) + 1 : 1,
      at: at.toISOString(),
      actor: input.actor,
      action: input.action,
      targetType: input.targetType,
      targetId: input.targetId ?? null,
      before: input.before ?? null,
      after: input.after ?? null,
    };
    const prevHash = last?.hash ?? GENESIS_HASH;
    const hash = auditHash(prevHash, fields);
    await tx.execute(
      `insert into audit_events (seq, at, actor, action, target_type, target_id, before, after, prev_hash, hash)
       values (?, ?, ?, ?, ?, ?, ?::jsonb, ?::jsonb, ?, ?)`,
      [fields.seq, at, fields.actor, fields.action, fields.targetType, fields.targetId,
        JSON.stringify(fields.before), JSON.stringify(fields.after), prevHash, hash], 'run');
    return { seq: fields.seq, hash };
  });
}

/** A stored entry: its fields, the previous entry's hash and its own. */
export type AuditRow = AuditFields & { prevHash: string; hash: string };

export interface AuditFilter {
  actor?: string;
  action?: string;
  targetType?: string;
  targetId?: string;
  since?: Date;
  until?: Date;
}

/** Entries in chain order, `afterSeq` exclusive, at most `limit`. */
export async function readAudit(em: EntityManager, filter: AuditFilter, afterSeq: number, limit: number): Promise<AuditRow[]> {
  const knex = em.getKnex();
  const rows = await knex('audit_events')
    .select('seq', knex.raw(`to_char(at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as at`), 'actor', 'action',
      'target_type', 'target_id', 'before', 'after', 'prev_hash', 'hash')
    .where('seq', '>', afterSeq)
    .modify((q) => {
      if (filter.actor) q.where('actor', filter.actor);
      if (filter.action) q.where('action', filter.action);
      if (filter.targetType) q.where('target_type', filter.targetType);
      if (filter.targetId) q.where('target_id', filter.targetId);
      if (filter.since) q.where('at', '>=', filter.since);
      if (filter.until) q.where('at', '<', filter.until);
    })
    .orderBy('seq').limit(limit) as Record<string, unknown>[];
  return rows.map((r) => ({
    seq: Number(r.seq), at: r.at as string, actor: r.actor as string, action: r.action as string,
    targetType: r.target_type as string, targetId: r.target_id as string | null, before: r.before, after: r.after,
    prevHash: r.prev_hash as string, hash: r.hash as string,
  }));
}

export interface ChainVerdict {
  ok: boolean;
  entries: number;
  /** The first entry whose hash or link does not hold, and why. */
  firstBroken: { seq: number; reason: string } | null;
}

/** Walks the whole chain in order, recomputing every hash; names the first broken link. */
export async function verifyAudit(em: EntityManager): Promise<ChainVerdict> {
  let prevHash = GENESIS_HASH;
  let expectedSeq = 1;
  let entries = 0;
  for (let after = 0; ;) {
    const batch = await readAudit(em, {}, after, 5000);
    if (!batch.length) break;
    for (const row of batch) {
      entries++;
      if (row.seq !== expectedSeq) return { ok: false, entries, firstBroken: { seq: expectedSeq, reason: `entry ${expectedSeq} is missing (next is ${row.seq})` } };
      if (row.prevHash !== prevHash) return { ok: false, entries, firstBroken: { seq: row.seq, reason: 'its link to the previous entry does not match' } };
      const { prevHash: _p, hash, ...fields } = row;
      if (auditHash(prevHash, fields) !== hash) return { ok: false, entries, firstBroken: { seq: row.seq, reason: 'its contents do not match its hash (edited)' } };
      prevHash = hash;
      expectedSeq++;
    }
    after = batch[batch.length - 1].seq;
  }
  return { ok: true, entries, firstBroken: null };
}
