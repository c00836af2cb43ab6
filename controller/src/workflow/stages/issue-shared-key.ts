// One key shared by several hosts (template key.multiHost "shared"): the issue stage has the key made on
// one agent (the key's host) and one certificate issued for it; then that agent seals the key to every
// other target agent's identity key (an exportKey job) and the controller keeps only the sealed copies,
// which the deploy stage hands to each agent with its deploy job. The controller cannot open them: each
// opens only with one agent's identity key, which never leaves that agent's host.
import { createHash, X509Certificate } from 'node:crypto';
import type { EncryptedKeyPayload } from '../../agent-jobs/deploy-job-payloads.js';
import { Agent } from '../../db/entities/agent.js';
import type { StageContext } from '../stage-handler.js';
import { PermanentStageError } from '../stage-handler.js';
import { jobTimedOut, readJobs, startAgentJob, type JobRef } from './agent-job-wait.js';
import type { IssuedForHost } from './issue.js';

export interface SharedKeyProgress {
  fromAgentId: string;
  keyId: string;
  exportJob: JobRef;
}

/** The agent that makes a shared key: the template's sharedKeyAgent when it is one of the targets', else the first target's. */
export function sharedKeyHost(hosts: string[], named: string | undefined): string {
  return named && hosts.includes(named) ? named : hosts[0]!;
}

/**
 * Once the key's host has its certificate: ask it once for the sealed copies, then wait for them. Done
 * (null) when every other host has its entry in `issued` (the same certificate, its own sealed key);
 * otherwise what the stage waits for.
 */
export async function shareIssuedKey(
  ctx: StageContext, hosts: string[], issued: IssuedForHost[], state: { sharedKey?: SharedKeyProgress },
): Promise<string | null> {
  const source = issued[0]!;
  const others = hosts.filter((h) => h !== source.agentId);
  if (others.every((h) => issued.some((c) => c.agentId === h))) return null;
  const publicKeySha256 = createHash('sha256').update(new X509Certificate(source.certificatePem).publicKey.export({ type: 'spki', format: 'der' })).digest('hex');

  if (!state.sharedKey) {
    const agents = await ctx.tx.find(Agent, { id: { $in: others } }, { fields: ['id', 'identityCertificatePem'], disableIdentityMap: true });
    const recipients = others.map((agentId) => {
      const pem = agents.find((a) => a.id === agentId)?.identityCertificatePem;
      if (!pem) throw new PermanentStageError(`agent ${agentId} has not connected since it could report its identity certificate; the shared key cannot be sealed to it yet`);
      return { agentId, identityCertificatePem: pem };
    });
    const exportJob = await startAgentJob(ctx, source.agentId, 'exportKey', { keyId: source.keyId, publicKeySha256, runId: ctx.run.id, recipients });
    state.sharedKey = { fromAgentId: source.agentId, keyId: source.keyId, exportJob };
    return `agent ${source.agentId} to seal the shared key for ${others.length} other host(s)`;
  }

  const job = (await readJobs(ctx.tx, [state.sharedKey.exportJob])).get(state.sharedKey.exportJob.jobId);
  if (!job) throw new PermanentStageError(`export job ${state.sharedKey.exportJob.jobId} disappeared`);
  if (job.state === 'failed') throw new PermanentStageError(`agent ${source.agentId} did not share the key: ${job.error ?? 'no reason given'}`);
  if (job.state !== 'succeeded') {
    if (jobTimedOut(job, ctx.deps.settings.agentJobTimeoutMs, ctx.deps.now())) throw new PermanentStageError(`agent ${source.agentId} did not answer the export job in time`);
    return `agent ${source.agentId} to seal the shared key`;
  }
  const blobs = ((job.result as { exportKey?: { blobs?: EncryptedKeyPayload[] } } | null)?.exportKey?.blobs) ?? [];
  for (const agentId of others) {
    const blob = blobs.find((b) => b.recipientAgentId === agentId);
    // What the agent sealed must be the key of the certificate issued; the recipient checks it again after opening it.
    if (!blob || blob.keyId !== source.keyId || blob.publicKeySha256 !== publicKeySha256 || blob.runId !== ctx.run.id) {
      throw new PermanentStageError(`agent ${source.agentId} answered the export job without a sealed key for agent ${agentId}`);
    }
    issued.push({ ...source, agentId, encryptedKey: blob });
  }
  await ctx.audit('key.shared', { keyId: source.keyId, from: source.agentId, to: others, publicKeySha256 });
  return null;
}
