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
      // The agent already rolled this one back itself (automatic policy, its own validation failed).
      const selfRolledBack = job?.state === 'failed' && (job.result as { rolledBack?: boolean } | null)?.rolledBack === true;
      if (selfRolledBack) continue;
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
