// The audit trail: append-only and hash-chained. Entries from every replica form one chain, ordered
// under a transaction-scoped advisory lock. Entries are written inside the transaction of the change
// they record, so a change and its audit entry commit (or roll back) together, in one of two ways:
// - appendAudit chains the entry at once, holding the chain's lock until the transaction commits (an
//   operator's action: rare, and its entry is in the chain when the API answers);
// - appendAuditDeferred only inserts it into audit_pending, with no lock (the workflow's stages: many per
//   second); the sequencer (chainPendingAudit, run by every replica's AuditSequencer moments after each
//   commit) moves committed entries into the chain in batches. Every reader of the trail chains what is
//   pending first, so what a reader sees is never missing a committed entry.
import type { EntityManager } from '@mikro-orm/postgresql';
import { createProcessSignal } from '../process-signal.js';
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

/** Fired when a transaction wrote pending entries (the sequencer then need not wait for its poll). */
const auditPending = createProcessSignal();
export const onAuditPending = auditPending.on;
export const kickAuditSequencer = auditPending.fire;

/** Transactions that collect their deferred entries and write them once, just before commit. */
const collecting = new WeakMap<EntityManager, AuditInput[]>();

/**
 * Runs `fn` in transaction `tx` with its deferred audit entries collected and written in one statement
 * at the end (the runner: a fused chain of stages writes its entries once, in the order they came).
 */
export async function collectingDeferredAudit<T>(tx: EntityManager, fn: () => Promise<T>): Promise<T> {
  const entries: AuditInput[] = [];
  collecting.set(tx, entries);
  try {
    const result = await fn();
    collecting.delete(tx);
    await appendAuditDeferred(tx, entries);
    return result;
  } finally {
    collecting.delete(tx);
  }
}

/** Writes entries to be chained once their transaction commits: no lock, one statement for all of them. */
export async function appendAuditDeferred(em: EntityManager, inputs: AuditInput | AuditInput[]): Promise<void> {
  const list = Array.isArray(inputs) ? inputs : [inputs];
  if (list.length === 0) return;
  const collected = collecting.get(em);
  if (collected) {
    collected.push(...list);
    return;
  }
  // Milliseconds only: what JSON and Postgres both keep exactly, so verification recomputes the same hash.
  const at = new Date(Math.floor(Date.now()));
  const params: unknown[] = [];
  for (const input of list) {
    params.push(at, input.actor, input.action, input.targetType, input.targetId ?? null,
      JSON.stringify(input.before ?? null), JSON.stringify(input.after ?? null));
  }
  await em.execute(
    `insert into audit_pending (at, actor, action, target_type, target_id, before, after) values ${
      list.map(() => '(?, ?, ?, ?, ?, ?::jsonb, ?::jsonb)').join(', ')}`,
    params, 'run');
  // Its transaction has most likely committed by the time the sequencer looks (a few ms later); if not,
  // the sequencer's poll takes it.
  kickAuditSequencer();
}

/**
 * Moves committed pending entries into the chain, oldest first, in batches of `batch`; returns how many.
 * Safe from any number of replicas at once: each batch is taken and chained under the chain's lock.
 */
export async function chainPendingAudit(em: EntityManager, batch = 500): Promise<number> {
  let total = 0;
  for (;;) {
    const chained = await em.fork().transactional(async (tx) => {
      await tx.execute('select pg_advisory_xact_lock(?)', [AUDIT_LOCK_KEY]);
      const rows = await tx.execute<{ at: string; actor: string; action: string; target_type: string; target_id: string | null; before: unknown; after: unknown }[]>(
        `with taken as (delete from audit_pending where id in (select id from audit_pending order by id limit ?) returning *)
         select to_char(at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as at, actor, action, target_type, target_id, before, after
         from taken order by id`, [batch]);
      if (rows.length === 0) return 0;
      const [last] = await tx.execute<{ seq: string; hash: string }[]>('select seq, hash from audit_events order by seq desc limit 1');
      let seq = last ? Number(last.seq) : 0;
      let prevHash = last?.hash ?? GENESIS_HASH;
      const params: unknown[] = [];
      for (const row of rows) {
        const fields: AuditFields = {
          seq: ++seq, at: row.at, actor: row.actor, action: row.action, targetType: row.target_type, targetId: row.target_id,
          before: row.before ?? null, after: row.after ?? null,
        };
        const hash = auditHash(prevHash, fields);
        params.push(fields.seq, fields.at, fields.actor, fields.action, fields.targetType, fields.targetId,
          JSON.stringify(fields.before), JSON.stringify(fields.after), prevHash, hash);
        prevHash = hash;
      }
      await tx.execute(
        `insert into audit_events (seq, at, actor, action, target_type, target_id, before, after, prev_hash, hash) values ${
          rows.map(() => '(?, ?, ?, ?, ?, ?, ?::jsonb, ?::jsonb, ?, ?)').join(', ')}`,
        params, 'run');
      return rows.length;
    });
    total += chained;
    if (chained < batch) return total;
  }
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
  await chainPendingAudit(em);
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
