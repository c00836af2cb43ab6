// The issue stage's path for a CA that validates with http-01 answered by the target host's agent. The CA
// validates while the agent job is in flight, so the issue is driven in steps, one per handler call:
//   1. before the host makes its key, the issuer places the order (the names are known; the CSR is only
//      needed to finalize) and gives the challenges; the host's makeCsr job carries them, so the agent
//      serves the tokens and makes the key and CSR in one job (orderBeforeKey), and the stage waits;
//   2. when the agent answers with the CSR and "serving", the issuer has the CA validate, finalizes with
//      the CSR and records the certificate; a "stop" job then asks the agent to stop serving (not waited
//      for: the agent also stops by itself when the tokens' time is up).
// An agent that answers the makeCsr job without serving (one from before serveHttp01) gets a separate
// Http01Challenge "start" job for the same order, as runs from before this path do.
// A crash between steps resumes the same order (the issuer keeps it per idempotency key) and the same
// agent job (remembered in the run's context).
import { createAgentJob } from '../../agent-jobs/agent-jobs.js';
import { http01ChallengeJobPayload, type Http01JobOutput } from '../../agent-jobs/http01-job-payloads.js';
import {
  IssuerPolicyError, isStaged, type AgentHttp01Setup, type Issuer, type IssueRequest, type IssuedCertificate, type PendingHttp01Challenge, type StagedIssuer,
} from '../../issuers/issuer.js';
import type { StageContext } from '../stage-handler.js';
import { PermanentStageError } from '../stage-handler.js';
import { jobTimedOut, readJobs, startAgentJob, type JobRef, type JobView } from './agent-job-wait.js';

export interface Http01Progress {
  agentId: string;
  challengeId: string;
  /** The start job; absent when the order needed no validation (already valid, or already recorded). */
  startJob?: JobRef;
  /** The start job is the host's makeCsr job, which serves the tokens too (orderBeforeKey). */
  withKey?: boolean;
  stopJobId?: string;
  tokens: number;
}

export type Http01Step =
  | { type: 'issued'; cert: IssuedCertificate }
  | { type: 'waiting' }
  /** The CA refused or could not validate: the run fails with this text (the stop job is in the same commit). */
  | { type: 'failed'; error: string };

/**
 * Step 1, before `agentId` makes its key: when `issuer` validates with http-01 answered by the agent, the
 * order for `reqWithoutCsr` is placed (or resumed) and the start payload for the host's makeCsr job
 * returned (its serveHttp01; the caller records the job with servedWithKey). Null for any other CA, and
 * when the order needs no validation (the progress then says so, and step 2 completes at once).
 */
export async function orderBeforeKey(
  ctx: StageContext, issuer: Issuer, reqWithoutCsr: IssueRequest, agentId: string, progress: Http01Progress[],
): Promise<Record<string, unknown> | null> {
  if (!isStaged(issuer)) return null;
  const agentSetup = await issuer.agentHttp01();
  if (!agentSetup) return null;
  const setup = { ...agentSetup, ...ctx.template.ca.http01 };
  const { challenges } = await issuer.prepare(reqWithoutCsr, ctx.signal);
  // The host has no entry yet: entries are written with its makeCsr job, in the same commit.
  const challengeId = challengeIdOf(ctx, agentId);
  progress.push({ agentId, challengeId, tokens: challenges.length });
  if (challenges.length === 0) return null;
  return startPayload(setup, challengeId, challenges);
}

/** The makeCsr job `ref` serves the tokens orderBeforeKey gave for `agentId`. */
export function servedWithKey(progress: Http01Progress[], agentId: string, ref: JobRef): void {
  const entry = progress.find((p) => p.agentId === agentId)!;
  entry.startJob = ref;
  entry.withKey = true;
}

/**
 * One step of issuing `req` for `agentId` through `issuer`, whose http-01 challenges the agent answers.
 * `known`: jobs the caller has just read (the makeCsr job that serves the tokens too).
 */
export async function issueThroughAgentHttp01(
  ctx: StageContext, issuer: StagedIssuer, setup: AgentHttp01Setup, req: IssueRequest, agentId: string, progress: Http01Progress[],
  known?: Map<string, JobView>,
): Promise<Http01Step> {
  const entry = progress.find((p) => p.agentId === agentId);
  if (!entry) return prepareAndServe(ctx, issuer, setup, req, agentId, progress);
  if (!entry.startJob) return { type: 'issued', cert: await issuer.complete(req, ctx.signal) };

  const job = known?.get(entry.startJob.jobId) ?? (await readJobs(ctx.tx, [entry.startJob])).get(entry.startJob.jobId);
  if (!job) throw new PermanentStageError(`http-01 job ${entry.startJob.jobId} disappeared`);
  const where = setup.webroot ? `under webroot ${setup.webroot}` : `on port ${setup.port}`;
  if (job.state === 'failed') {
    throw new PermanentStageError(`agent ${agentId} cannot answer http-01 ${where} for ${issuer.name}: ${job.error ?? 'no reason given'}`);
  }
  if (job.state !== 'succeeded') {
    if (jobTimedOut(job, ctx.deps.settings.agentJobTimeoutMs, ctx.deps.now())) {
      throw new PermanentStageError(`agent ${agentId} did not answer the http-01 job within ${Math.round(ctx.deps.settings.agentJobTimeoutMs / 60000)} min`);
    }
    return { type: 'waiting' };
  }
  const served = (job.result as { http01?: Http01JobOutput } | null)?.http01;
  if (!served && entry.withKey) {
    // An agent from before serveHttp01 made the key and ignored the tokens: a start job of their own, for the same order.
    progress.splice(progress.indexOf(entry), 1);
    return prepareAndServe(ctx, issuer, setup, req, agentId, progress);
  }
  if (served?.status !== 'serving') throw new PermanentStageError(`agent ${agentId} answered the http-01 job without serving the tokens`);
  try {
    const cert = await issuer.complete(req, ctx.signal);
    await stopServing(ctx, entry);
    return { type: 'issued', cert };
  } catch (err) {
    // A refusal or a failed validation ends the run: tell the agent to stop in the same commit. Anything
    // else is retried by the runner, and the agent keeps serving for the retry.
    if (!(err instanceof IssuerPolicyError)) throw err;
    await stopServing(ctx, entry);
    return { type: 'failed', error: `${issuer.name} refused: ${err.message}` };
  }
}

async function prepareAndServe(
  ctx: StageContext, issuer: StagedIssuer, setup: AgentHttp01Setup, req: IssueRequest, agentId: string, progress: Http01Progress[],
): Promise<Http01Step> {
  const { challenges } = await issuer.prepare(req, ctx.signal);
  const challengeId = challengeIdOf(ctx, agentId);
  if (challenges.length === 0) {
    progress.push({ agentId, challengeId, tokens: 0 });
    return { type: 'issued', cert: await issuer.complete(req, ctx.signal) };
  }
  const startJob = await startAgentJob(ctx, agentId, 'http01Challenge', startPayload(setup, challengeId, challenges));
  progress.push({ agentId, challengeId, startJob, tokens: challenges.length });
  return { type: 'waiting' };
}

/** What the agent knows the run's tokens on its host by (a stop names it). */
function challengeIdOf(ctx: StageContext, agentId: string): string {
  return `${ctx.run.id}.${agentId.slice(0, 8)}`;
}

function startPayload(setup: AgentHttp01Setup, challengeId: string, challenges: PendingHttp01Challenge[]): Record<string, unknown> {
  return http01ChallengeJobPayload({
    action: 'start', challengeId, tokens: challenges.map(({ token, keyAuthorization }) => ({ token, keyAuthorization })),
    port: setup.port, bindAddress: setup.bindAddress ?? '', webroot: setup.webroot ?? '', ttlSeconds: setup.serveSeconds,
  });
}

/** A stop job, not linked to the run: its answer has nothing to wake. */
export async function stopServing(ctx: StageContext, entry: Http01Progress): Promise<void> {
  if (entry.stopJobId) return;
  const job = await createAgentJob(ctx.tx, {
    agentId: entry.agentId, kind: 'http01Challenge', requestedBy: `run:${ctx.run.id}`,
    payload: http01ChallengeJobPayload({ action: 'stop', challengeId: entry.challengeId }),
  });
  entry.stopJobId = job.id;
  ctx.wakeAgent(entry.agentId);
}
