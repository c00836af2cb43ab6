// The transactional outbox. Stage work and events are written here inside the transaction that changes
// the state they follow from; the relay (outbox-relay.ts) publishes them. A message id is unique, so
// writing the same message twice (a retried handler, a duplicate wake-up) stores it once.
import type { EntityManager } from '@mikro-orm/postgresql';
import type { CertflowEvent } from '../events/certflow-event.js';
import type { Subjects } from '../messaging/subjects.js';
import type { StageName } from './stage-names.js';

/** What a work message says: "look at this stage of this run". Handlers re-read everything else. */
export interface StageWork {
  runId: string;
  stage: StageName;
}

/** Listeners told that a transaction with outbox rows committed, so the relay need not wait for its poll. */
const kickListeners = new Set<() => void>();
export function onOutboxKick(listener: () => void): () => void {
  kickListeners.add(listener);
  return () => kickListeners.delete(listener);
}
export function kickOutbox(): void {
  for (const listener of kickListeners) listener();
}

export async function enqueueStage(tx: EntityManager, s: Subjects, work: StageWork, msgId: string): Promise<void> {
  await insertOutbox(tx, msgId, s.work(work.stage), work as unknown as Record<string, unknown>);
}

export async function enqueueEvent(tx: EntityManager, s: Subjects, event: CertflowEvent): Promise<void> {
  await insertOutbox(tx, event.id, s.event(event.kind), event as unknown as Record<string, unknown>);
}

async function insertOutbox(tx: EntityManager, msgId: string, subject: string, payload: Record<string, unknown>): Promise<void> {
  await tx.execute(
    `insert into outbox (msg_id, subject, payload, created_at) values (?, ?, ?::jsonb, now()) on conflict (msg_id) do nothing`,
    [msgId, subject, JSON.stringify(payload)],
    'run',
  );
}
