// The transactional outbox. Stage work and events are written here inside the transaction that changes
// the state they follow from; the relay (outbox-relay.ts) publishes them. A message id is unique, so
// writing the same message twice (a retried handler, a duplicate wake-up) stores it once.
import type { EntityManager } from '@mikro-orm/postgresql';
import { createProcessSignal } from '../process-signal.js';
import type { CertflowEvent } from '../events/certflow-event.js';
import type { Subjects } from '../messaging/subjects.js';
import type { StageName } from './stage-names.js';

/** What a work message says: "look at this stage of this run". Handlers re-read everything else. */
export interface StageWork {
  runId: string;
  stage: StageName;
}

/** Fired when a transaction with outbox rows committed, so the relay need not wait for its poll. */
const outboxWritten = createProcessSignal();
export const onOutboxKick = outboxWritten.on;
export const kickOutbox = outboxWritten.fire;

export async function enqueueStage(tx: EntityManager, s: Subjects, work: StageWork, msgId: string): Promise<void> {
  const row = stageMessage(s, work, msgId);
  await insertOutbox(tx, row.msgId, row.subject, row.payload);
}

export async function enqueueEvent(tx: EntityManager, s: Subjects, event: CertflowEvent): Promise<void> {
  const row = eventMessage(s, event);
  await insertOutbox(tx, row.msgId, row.subject, row.payload);
}

export interface OutboxRow {
  msgId: string;
  subject: string;
  payload: Record<string, unknown>;
}

/** The message that enqueueStage writes, for writing many at once with enqueueMany. */
export function stageMessage(s: Subjects, work: StageWork, msgId: string): OutboxRow {
  return { msgId, subject: s.work(work.stage), payload: work as unknown as Record<string, unknown> };
}

/** The message that enqueueEvent writes, for writing many at once with enqueueMany. */
export function eventMessage(s: Subjects, event: CertflowEvent): OutboxRow {
  return { msgId: event.id, subject: s.event(event.kind), payload: event as unknown as Record<string, unknown> };
}

/** Many messages in one statement, in order (a batch of run starts). */
export async function enqueueMany(tx: EntityManager, rows: OutboxRow[]): Promise<void> {
  if (rows.length === 0) return;
  await tx.execute(
    `insert into outbox (msg_id, subject, payload, created_at)
     select e->>'msgId', e->>'subject', e->'payload', now() from jsonb_array_elements(?::jsonb) with ordinality as x(e, n) order by n
     on conflict (msg_id) do nothing`,
    [JSON.stringify(rows)], 'run');
}

async function insertOutbox(tx: EntityManager, msgId: string, subject: string, payload: Record<string, unknown>): Promise<void> {
  await tx.execute(
    `insert into outbox (msg_id, subject, payload, created_at) values (?, ?, ?::jsonb, now()) on conflict (msg_id) do nothing`,
    [msgId, subject, JSON.stringify(payload)],
    'run',
  );
}
