// Shared by the stages that hand work to agents: create a job once (remembered in the run's context),
// then look at its state on every wake-up. The job's answer wakes the stage through the outbox; the
// recheck only catches an agent that never answers.
import type { EntityManager } from '@mikro-orm/postgresql';
import { createAgentJob } from '../../agent-jobs/agent-jobs.js';
import { AgentJob, type AgentJobKind } from '../../db/entities/agent-job.js';
import type { StageContext } from '../stage-handler.js';

export interface JobRef {
  jobId: string;
  agentId: string;
}

export async function startAgentJob(ctx: StageContext, agentId: string, kind: AgentJobKind, payload: Record<string, unknown>): Promise<JobRef> {
  const job = await createAgentJob(ctx.tx, { agentId, kind, payload, requestedBy: `run:${ctx.run.id}`, run: { runId: ctx.run.id, stage: ctx.stage.stage } });
  ctx.wakeAgent(agentId);
  return { jobId: job.id, agentId };
}

export type JobView = Pick<AgentJob, 'id' | 'agent' | 'state' | 'error' | 'result' | 'createdAt' | 'finishedAt'>;

export async function readJobs(tx: EntityManager, refs: JobRef[]): Promise<Map<string, JobView>> {
  if (refs.length === 0) return new Map();
  const jobs = await tx.find(AgentJob, { id: { $in: refs.map((r) => r.jobId) } }, { disableIdentityMap: true });
  return new Map(jobs.map((j) => [j.id, j]));
}

/** A job nobody answered within the agent job timeout: the agent is offline or stuck. */
export function jobTimedOut(job: JobView, timeoutMs: number, now: Date): boolean {
  return (job.state === 'pending' || job.state === 'sent') && now.getTime() - job.createdAt.getTime() > timeoutMs;
}
