// Agent jobs: rows in Postgres, plus a NATS wake-up so the replica holding the agent's stream sends them
// at once. The caller wakes the agent only after its transaction commits: a replica woken earlier would
// find no job yet. A lost wake-up only delays a job until the agent's next session.
import type { EntityManager } from '@mikro-orm/postgresql';
import { randomUUID } from 'node:crypto';
import { AgentJob, type AgentJobKind } from '../db/entities/agent-job.js';
import type { Subjects } from '../messaging/subjects.js';
import { kickOutbox } from '../workflow/outbox.js';

/** A job as created: its row's fields (it is not an entity of the caller's EntityManager). */
export type CreatedAgentJob = Pick<AgentJob, 'id' | 'agent' | 'kind' | 'payload' | 'state' | 'requestedBy' | 'createdAt' | 'runId' | 'runStage'>;

/**
 * Writes a pending job in the caller's transaction. One plain insert: a flush here would also write
 * everything else the transaction changed so far, and then again at commit.
 */
export async function createAgentJob(
  em: EntityManager,
  input: {
    agentId: string; kind: AgentJobKind; payload?: Record<string, unknown>; requestedBy: string;
    /** A workflow stage waiting for the answer; the answer wakes it. */
    run?: { runId: string; stage: string };
  },
): Promise<CreatedAgentJob> {
  const job: CreatedAgentJob = {
    id: randomUUID(), agent: input.agentId, kind: input.kind, payload: input.payload ?? {}, state: 'pending', requestedBy: input.requestedBy,
    createdAt: new Date(), runId: input.run?.runId ?? null, runStage: input.run?.stage ?? null,
  };
  await em.execute(
    `insert into agent_jobs (id, agent_id, kind, payload, state, requested_by, created_at, run_id, run_stage)
     values (?, ?, ?, ?::jsonb, 'pending', ?, ?, ?, ?)`,
    [job.id, job.agent, job.kind, JSON.stringify(job.payload), job.requestedBy, job.createdAt, job.runId, job.runStage], 'run');
  return job;
}

/** Jobs read for an agent at a time; a delivery reads again while it gets full batches. */
export const JOBS_PER_DELIVERY = 100;

/** A job as the gateway sends it. */
export interface JobToSend {
  id: string;
  kind: AgentJobKind;
  payload: Record<string, unknown>;
}

/**
 * Takes the jobs to send to an agent now and marks them sent, in one statement: pending ones, and with
 * `includeSent` sent ones the agent never answered (it reconnected). Marked before they go out: a job
 * marked but never written (the session closed, the replica died) is sent again on the agent's next
 * session, whose first delivery includes sent jobs. Oldest first.
 */
export async function claimJobsToSend(em: EntityManager, agentId: string, options: { includeSent: boolean } = { includeSent: true }): Promise<JobToSend[]> {
  // created_at comes back as the driver gives timestamps to MikroORM: a string (or a Date).
  const rows = await em.getConnection().execute<(JobToSend & { created_at: string | Date })[]>(
    `update agent_jobs set state = 'sent', sent_at = now()
      where id in (select id from agent_jobs where agent_id = ? and state = any(?::text[]) order by created_at limit ${JOBS_PER_DELIVERY})
        and state in ('pending', 'sent')
      returning id, kind, payload, created_at`,
    [agentId, options.includeSent ? '{pending,sent}' : '{pending}'], 'all');
  const at = (row: { created_at: string | Date }) => new Date(row.created_at).getTime();
  return rows.sort((a, b) => at(a) - at(b) || a.id.localeCompare(b.id)).map(({ id, kind, payload }) => ({ id, kind, payload }));
}

/**
 * Records an agent's answer. Only the agent the job belongs to can answer it; a second answer is ignored.
 * One statement: the answer and the wake-up of the stage waiting for it (its outbox message) commit
 * together, without a transaction of their own.
 */
export async function recordJobResult(
  em: EntityManager,
  agentId: string,
  result: { jobId: string; ok: boolean; error: string; output?: Record<string, unknown> | null },
  wakeSubjects?: Subjects,
): Promise<boolean> {
  // The wake-up is the message enqueueStage writes (outbox.ts stageMessage): subject work(stage), payload { runId, stage }.
  const workSubjectPrefix = wakeSubjects ? wakeSubjects.work('') : null;
  const [row] = await em.getConnection().execute<{ answered: number }[]>(
    `with answered as (
       update agent_jobs set state = ?, finished_at = ?, error = ?, result = ?::jsonb
        where id = ? and agent_id = ? and state in ('pending', 'sent')
       returning id, run_id, run_stage),
     woken as (
       insert into outbox (msg_id, subject, payload, created_at)
       select run_id || ':' || run_stage || ':job:' || id, ?::text || run_stage, jsonb_build_object('runId', run_id, 'stage', run_stage), now()
         from answered where run_id is not null and run_stage is not null and ?::text is not null
       on conflict (msg_id) do nothing)
     select count(*)::int as answered from answered`,
    [
      result.ok ? 'succeeded' : 'failed', new Date(), result.ok ? null : result.error.slice(0, 4000),
      // A failed deploy still says what it changed and whether it rolled back: keep its output too.
      result.output == null ? null : JSON.stringify(result.output),
      result.jobId, agentId, workSubjectPrefix, workSubjectPrefix,
    ], 'all');
  const recorded = row?.answered === 1;
  if (recorded && wakeSubjects) kickOutbox();
  return recorded;
}
