// Agent jobs: rows in Postgres, plus a NATS wake-up so the replica holding the agent's stream sends them
// at once. The caller wakes the agent only after its transaction commits: a replica woken earlier would
// find no job yet. A lost wake-up only delays a job until the agent's next session.
import type { EntityManager } from '@mikro-orm/postgresql';
import { randomUUID } from 'node:crypto';
import { AgentJob, type AgentJobKind } from '../db/entities/agent-job.js';

export async function createAgentJob(
  em: EntityManager,
  input: { agentId: string; kind: AgentJobKind; payload?: Record<string, unknown>; requestedBy: string },
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
  });
  await em.flush();
  return job;
}

/** Jobs to send to an agent now: pending ones, and sent ones the agent never answered (it reconnected). */
export async function jobsToSend(em: EntityManager, agentId: string): Promise<AgentJob[]> {
  return em.find(AgentJob, { agent: agentId, state: { $in: ['pending', 'sent'] } }, { orderBy: { createdAt: 'asc' }, limit: 100 });
}

export async function markJobSent(em: EntityManager, jobId: string): Promise<void> {
  await em.nativeUpdate(AgentJob, { id: jobId, state: { $in: ['pending', 'sent'] } }, { state: 'sent', sentAt: new Date() });
}

/** Records an agent's answer. Only the agent the job belongs to can answer it; a second answer is ignored. */
export async function recordJobResult(
  em: EntityManager,
  agentId: string,
  result: { jobId: string; ok: boolean; error: string; output?: Record<string, unknown> | null },
): Promise<boolean> {
  const updated = await em.nativeUpdate(
    AgentJob,
    { id: result.jobId, agent: agentId, state: { $in: ['pending', 'sent'] } },
    {
      state: result.ok ? 'succeeded' : 'failed', finishedAt: new Date(), error: result.ok ? null : result.error.slice(0, 4000),
      result: result.ok ? result.output ?? null : null,
    },
  );
  return updated === 1;
}
