// rollback: after a failed deploy or validate, every deploy job that may have changed a target is
// rolled back on its agent (the agent restores its backups atomically, reloads, and checks that the old
// certificate is served again). A rollback that fails leaves the run in rollback-failed, loudly.
import { rollbackJobPayload } from '../../agent-jobs/deploy-job-payloads.js';
import type { StageHandler } from '../stage-handler.js';
import type { RunTarget } from './discover.js';
import type { DeployProgress } from './deploy.js';
import { jobTimedOut, readJobs, startAgentJob, type JobRef } from './agent-job-wait.js';

interface RollbackProgress {
  jobs: (JobRef & { deployId: string })[];
  started: boolean;
}

export const rollback: StageHandler = async (ctx) => {
  const { tx, context, deps, managed } = ctx;
  const deployProgress = context.deployProgress as DeployProgress | undefined;
  const targets = (context.discover as { targets: RunTarget[] } | undefined)?.targets ?? [];
  const oldFingerprint = (context.discover as { currentFingerprintSha256?: string | null } | undefined)?.currentFingerprintSha256 ?? undefined;
  const progress: RollbackProgress = (context.rollbackProgress as RollbackProgress | undefined) ?? { jobs: [], started: false };
  context.rollbackProgress = progress;
  const now = deps.now();

  if (!progress.started) {
    progress.started = true;
    const deployJobs = deployProgress?.jobs ?? [];
    const states = await readJobs(tx, deployJobs);
    for (const ref of deployJobs) {
      const job = states.get(ref.jobId);
      if (!needsRollback(job)) continue;
      const endpoints = ref.targetIndexes.flatMap((i) => targets[i]?.endpoints ?? []);
      const payload = rollbackJobPayload({ deployId: ref.deployId, endpoints, ...(oldFingerprint ? { expectedFingerprintSha256: oldFingerprint } : {}) });
      const started = await startAgentJob(ctx, ref.agentId, 'rollback', payload);
      progress.jobs.push({ ...started, deployId: ref.deployId });
    }
  }

  const jobs = await readJobs(tx, progress.jobs);
  const failed: string[] = [];
  let waiting = 0;
  for (const ref of progress.jobs) {
    const job = jobs.get(ref.jobId)!;
    if (job.state === 'failed') failed.push(`agent ${ref.agentId}: ${job.error ?? 'no reason given'}`);
    else if (job.state !== 'succeeded') {
      if (jobTimedOut(job, deps.settings.agentJobTimeoutMs, now)) failed.push(`agent ${ref.agentId} did not answer its rollback job`);
      else waiting += 1;
    }
  }
  if (waiting > 0 && failed.length === 0) return { type: 'wait', reason: `rollback on ${waiting} agent(s)` };
  if (failed.length > 0) return { type: 'fail', error: `rollback failed: ${failed.join('; ')}`, output: { rolledBack: progress.jobs.length - failed.length, failed } };
  await ctx.audit('run.rolled-back-targets', { deployIds: progress.jobs.map((j) => j.deployId), certificate: managed.dnsNames });
  return { type: 'done', next: 'finish', finishAs: 'rolled-back', output: { rolledBack: progress.jobs.length, deployIds: progress.jobs.map((j) => j.deployId) } };
};

/**
 * Whether a deploy job may have left the new certificate in place. Refused or stopped before any file
 * was replaced: nothing to undo. Already rolled back by the agent itself: nothing to undo. Anything else
 * (deployed, validation failed without rollback, recovered, still running, unknown) is rolled back.
 */
function needsRollback(job: { state: string; result?: Record<string, unknown> | null } | undefined): boolean {
  if (!job) return false;
  const deploy = (job.result as { deploy?: { status?: string } } | null | undefined)?.deploy;
  if (job.state === 'failed' && deploy && ['refused', 'failed', 'rolled-back'].includes(deploy.status ?? '')) return false;
  return true;
}
