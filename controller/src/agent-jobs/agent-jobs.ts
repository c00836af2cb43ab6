// Agent jobs: rows in Postgres, plus a NATS wake-up so the replica holding the agent's stream sends them
// at once. The caller wakes the agent only after its transaction commits: a replica woken earlier would
// find no job yet. A lost wake-up only delays a job until the agent's next session.
import type { EntityManager } from '@mikro-orm/postgresql';
import { randomUUID } from 'node:crypto';
import { AgentJob, type AgentJobKind } from '../db/entities/agent-job.js';
import type { Subjects } from '../messaging/subjects.js';
import { enqueueStage, kickOutbox } from '../workflow/outbox.js';
import type { StageName } from '../workflow/stage-names.js';

export async function createAgentJob(
  em: EntityManager,
  input: {
    agentId: string; kind: AgentJobKind; payload?: Record<string, unknown>; requestedBy: string;
    /** A workflow stage waiting for the answer; the answer wakes it. */
    run?: { runId: string; stage: string };
  },
): Promise<AgentJob> {
  const job = em.create(AgentJob, {
    id: randomUUID(),
    agent: input.agentId,
    kind: input.kind,
    payload: input.payload ?? {},
    state: 'pending',
    requestedBy: input.requestedBy,
    result: null,
    createdAt: new Date(),
    sentAt: null,
    finishedAt: null,
    error: null,
    runId: input.run?.runId ?? null,
    runStage: input.run?.stage ?? null,
  });
  await em.flush();
  return job;
}

/** Jobs read for an agent at a time; a delivery reads again while it gets full batches. */
export const JOBS_PER_DELIVERY = 100;

/** Jobs to send to an agent now: pending ones, and with `includeSent` sent ones the agent never answered (it reconnected). */
export async function jobsToSend(em: EntityManager, agentId: string, options: { includeSent: boolean } = { includeSent: true }): Promise<AgentJob[]> {
  const states: AgentJob['state'][] = options.includeSent ? ['pending', 'sent'] : ['pending'];
  return em.find(AgentJob, { agent: agentId, state: { $in: states } }, { orderBy: { createdAt: 'asc' }, limit: JOBS_PER_DELIVERY });
}

export async function markJobSent(em: EntityManager, jobId: string): Promise<void> {
  await em.nativeUpdate(AgentJob, { id: jobId, state: { $in: ['pending', 'sent'] } }, { state: 'sent', sentAt: new Date() });
}

/** Records an agent's answer. Only the agent the job belongs to can answer it; a second answer is ignored. */
export async function recordJobResult(
  em: EntityManager,
  agentId: string,
  result: { jobId: string; ok: boolean; error: string; output?: Record<string, unknown> | null },
  wakeSubjects?: Subjects,
): Promise<boolean> {
  const recorded = await em.transactional(async (tx) => {
    const updated = await tx.nativeUpdate(
      AgentJob,
      { id: result.jobId, agent: agentId, state: { $in: ['pending', 'sent'] } },
      {
        state: result.ok ? 'succeeded' : 'failed', finishedAt: new Date(), error: result.ok ? null : result.error.slice(0, 4000),
        // A failed deploy still says what it changed and whether it rolled back: keep its output too.
        result: result.output ?? null,
      },
    );
    if (updated !== 1) return false;
    // The answer and the wake-up of the stage waiting for it commit together (transactional outbox).
    const [job] = await tx.execute<{ run_id: string | null; run_stage: string | null }[]>(
      'select run_id, run_stage from agent_jobs where id = ?', [result.jobId]);
    if (job?.run_id && job.run_stage && wakeSubjects) {
      await enqueueStage(tx, wakeSubjects, { runId: job.run_id, stage: job.run_stage as StageName }, `${job.run_id}:${job.run_stage}:job:${result.jobId}`);
    }
    return true;
  });
  if (recorded) kickOutbox();
  return recorded;
}
