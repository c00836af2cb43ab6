// deploy: puts the issued certificate in place on every target, canary batch first, then the rest in
// batches. Each batch is one deploy job per agent (the agent writes atomically, keeps backups, tests the
// config, reloads and validates its own endpoints). A failure stops the rollout; the runner then rolls
// back everything already changed, or waits for an operator, as the template's rollback policy says.
// Outside the template's maintenance windows the stage waits for the next window.
import { deployJobPayload } from '../../agent-jobs/deploy-job-payloads.js';
import type { TemplateDocument } from '../../templates/template-document.js';
import type { StageHandler } from '../stage-handler.js';
import { PermanentStageError } from '../stage-handler.js';
import type { RunTarget } from './discover.js';
import type { IssuedForHost } from './issue.js';
import { jobTimedOut, readJobs, startAgentJob, type JobRef } from './agent-job-wait.js';
import { inMaintenanceWindow } from '../maintenance-window.js';
import { issuerRootPem } from './issuer-root.js';
import { userSecretExists } from '../../secrets/user-secrets.js';

export interface DeployJobRef extends JobRef {
  deployId: string;
  batch: number;
  targetIndexes: number[];
}

export interface DeployProgress {
  batches: number[][];
  started: number;
  jobs: DeployJobRef[];
}

/** Target indexes in batches: the first `canary` targets alone, then `batchSize` at a time. */
export function planBatches(count: number, canary: number, batchSize: number): number[][] {
  const indexes = Array.from({ length: count }, (_, i) => i);
  const batches: number[][] = [];
  const first = Math.max(1, Math.min(canary, count));
  if (count > 0) batches.push(indexes.slice(0, first));
  for (let i = first; i < count; i += Math.max(1, batchSize)) batches.push(indexes.slice(i, i + Math.max(1, batchSize)));
  return batches;
}

export const deploy: StageHandler = async (ctx) => {
  const { tx, run, managed, template, deps, context } = ctx;
  const targets = (context.discover as { targets: RunTarget[] }).targets;
  const issued = ((context.issueProgress as { issued: IssuedForHost[] }).issued);
  const progress: DeployProgress = (context.deployProgress as DeployProgress | undefined)
    ?? { batches: planBatches(targets.length, template.deploy.canary, template.deploy.batchSize), started: 0, jobs: [] };
  context.deployProgress = progress;
  const now = deps.now();

  // Look at the batch in flight.
  const inFlight = progress.jobs.filter((j) => j.batch === progress.started - 1);
  if (inFlight.length > 0) {
    const jobs = await readJobs(tx, inFlight);
    const waiting: string[] = [];
    for (const ref of inFlight) {
      const job = jobs.get(ref.jobId)!;
      if (job.state === 'failed') {
        return { type: 'fail', error: `deploy on agent ${ref.agentId} failed: ${job.error ?? 'no reason given'}`, output: summary(progress) };
      }
      if (job.state !== 'succeeded') {
        if (jobTimedOut(job, deps.settings.agentJobTimeoutMs, now)) return { type: 'fail', error: `agent ${ref.agentId} did not answer its deploy job`, output: summary(progress) };
        waiting.push(ref.agentId);
      }
    }
    if (waiting.length > 0) return { type: 'wait', reason: `deploy batch ${progress.started} of ${progress.batches.length} on ${waiting.length} agent(s)`, output: summary(progress) };
  }

  if (progress.started >= progress.batches.length) {
    await ctx.emit({ kind: 'certificate.deployed', severity: 'info', summary: `Deployed ${managed.dnsNames.join(', ')} to ${targets.length} target(s)`,
      details: { fingerprintSha256: issued[0]?.fingerprintSha256 } });
    return { type: 'done', output: summary(progress) };
  }

  const windows = template.deploy.maintenanceWindows;
  if (windows && windows.length > 0 && !inMaintenanceWindow(windows, now)) {
    return { type: 'wait', reason: 'outside the maintenance window', recheckInMs: 60_000, output: summary(progress) };
  }

  // Start the next batch: one job per agent for its targets in this batch.
  const batch = progress.started;
  const indexes = progress.batches[batch]!;
  const roots = new Map<string, string | undefined>();
  const trustedRootsOf = async (ca: string) => {
    if (!roots.has(ca)) roots.set(ca, await issuerRootPem(ctx, ca));
    const pem = roots.get(ca);
    return pem ? { trustedRootsPem: pem } : {};
  };
  const byAgent = new Map<string, number[]>();
  for (const i of indexes) byAgent.set(targets[i]!.agentId, [...(byAgent.get(targets[i]!.agentId) ?? []), i]);
  for (const [agentId, targetIndexes] of byAgent) {
    const cert = issued.find((c) => c.agentId === agentId);
    if (!cert) throw new PermanentStageError(`no certificate was issued for agent ${agentId}`);
    const deployId = `${run.id}-b${batch}-${agentId.slice(0, 8)}`;
    const passwordSecret = await keystorePasswordSecret(ctx, targetIndexes.map((i) => targets[i]!));
    const payload = deployJobPayload({
      deployId, keyId: cert.keyId, certificatePem: cert.certificatePem, chainPem: cert.chainPem,
      ...(passwordSecret ? { pkcs12PasswordSecret: passwordSecret } : {}),
      // A shared key made on another host travels sealed to this agent (the controller cannot open it).
      ...(cert.encryptedKey ? { encryptedKey: cert.encryptedKey } : {}),
      targets: targetIndexes.map((i) => ({ kind: targets[i]!.kind, options: withExpectedNames(withoutPasswordSecret(targets[i]!.options), managed.dnsNames) })),
      endpoints: targetIndexes.flatMap((i) => targets[i]!.endpoints ?? []),
      ...await trustedRootsOf(cert.ca),
      rollbackOnFailure: template.rollback.policy === 'automatic',
    });
    const ref = await startAgentJob(ctx, agentId, 'deploy', payload);
    progress.jobs.push({ ...ref, deployId, batch, targetIndexes });
  }
  progress.started += 1;
  return { type: 'wait', reason: `deploy batch ${batch + 1} of ${progress.batches.length}`, output: summary(progress) };
};

function summary(progress: DeployProgress): Record<string, unknown> {
  return { batches: progress.batches.length, started: progress.started, jobs: progress.jobs.map((j) => ({ jobId: j.jobId, agentId: j.agentId, deployId: j.deployId, batch: j.batch })) };
}

/**
 * PKCS#12 targets name their keystore password as `options.passwordSecret` (a controller secret). The job
 * carries only that name; the gateway opens it when it sends the job. One password per job.
 */
async function keystorePasswordSecret(ctx: Parameters<StageHandler>[0], targets: RunTarget[]): Promise<string | undefined> {
  const names = [...new Set(targets.filter((t) => t.kind === 'pkcs12').map((t) => t.options.passwordSecret).filter((n): n is string => typeof n === 'string'))];
  if (names.length > 1) throw new PermanentStageError(`PKCS#12 targets on one agent name different password secrets (${names.join(', ')}); use one`);
  if (names[0] && !await userSecretExists(ctx.tx, names[0])) throw new PermanentStageError(`the keystore password secret "${names[0]}" does not exist (PUT /api/v1/secrets/${names[0]})`);
  return names[0];
}

function withoutPasswordSecret(options: Record<string, unknown>): Record<string, unknown> {
  const { passwordSecret: _name, ...rest } = options;
  return rest;
}

/** The agent refuses a certificate without the names its target expects; tell it which names to expect. */
function withExpectedNames(options: Record<string, unknown>, names: string[]): Record<string, unknown> {
  return options.expectedNames ? options : { ...options, expectedNames: names };
}

export type { TemplateDocument };
