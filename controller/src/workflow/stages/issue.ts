// issue: for each host that will hold the key, the host's agent makes the key and a CSR (the key never
// leaves the host); the controller sends the CSR to the CA chosen by select-ca and checks what comes
// back: the certificate's public key must be the CSR's and its names the managed certificate's.
// The CA call carries an idempotency key (run + host), so a retry after a crash gets the same
// certificate back instead of a second one. A CA whose http-01 challenges the host's agent answers is
// driven in steps (issue-http01.ts): the stage waits while the agent serves the tokens.
// With key.multiHost "shared" only one host makes the key and gets a certificate; that host's agent then
// seals the key to each other host's agent (issue-shared-key.ts), and the controller only carries the
// sealed copies.
import { createHash } from 'node:crypto';
import { parsedCertificate } from '../../issuers/parsed-certificate.js';
import type { IssuedCertificate, IssueRequest } from '../../issuers/issuer.js';
import { IssuerPolicyError, isStaged } from '../../issuers/issuer.js';
import type { StageHandler } from '../stage-handler.js';
import { PermanentStageError } from '../stage-handler.js';
import type { RunTarget } from './discover.js';
import { jobTimedOut, readJobs, startAgentJob, type JobRef } from './agent-job-wait.js';
import { issueThroughAgentHttp01, orderBeforeKey, servedWithKey, stopServing, type Http01Progress, type Http01Step } from './issue-http01.js';
import { shareIssuedKey, sharedKeyHost, type SharedKeyProgress } from './issue-shared-key.js';
import type { EncryptedKeyPayload } from '../../agent-jobs/deploy-job-payloads.js';

export interface IssuedForHost {
  agentId: string;
  keyId: string;
  certificatePem: string;
  chainPem: string;
  fingerprintSha256: string;
  serialHex: string;
  notBefore: string;
  notAfter: string;
  ca: string;
  /** Shared keys: the host's copy of the key, sealed to its agent by the key's host. */
  encryptedKey?: EncryptedKeyPayload;
}

interface IssueProgress {
  csrJobs: (JobRef & { keyId: string })[];
  issued: IssuedForHost[];
  /** Hosts whose CA's http-01 challenges they answer (absent in runs from before). */
  http01?: Http01Progress[];
  /** key.multiHost "shared": the export of the key from its host to the others. */
  sharedKey?: SharedKeyProgress;
}

export const issue: StageHandler = async (ctx) => {
  const { tx, run, managed, template, deps, context } = ctx;
  const targets = (context.discover as { targets: RunTarget[] }).targets;
  const ca = (context['select-ca'] as { ca: string }).ca;
  const hosts = [...new Set(targets.map((t) => t.agentId))];
  // Hosts that make a key: every host, or with a shared key only the key's host.
  const shared = template.key.multiHost === 'shared' && hosts.length > 1;
  const keyHosts = shared ? [sharedKeyHost(hosts, template.key.sharedKeyAgent)] : hosts;
  const progress: IssueProgress = (context.issueProgress as IssueProgress | undefined) ?? { csrJobs: [], issued: [] };
  context.issueProgress = progress;
  const now = deps.now();

  const request = (agentId: string, csrPem: string): IssueRequest => ({
    csrPem, dnsNames: managed.dnsNames, ipAddresses: managed.ipAddresses,
    validityDays: template.ca.validityDays, idempotencyKey: `${run.id}:${agentId}`,
    // A renewal from the same CA names the certificate it replaces (ARI `replaces`: no rate-limit cost).
    ...(managed.currentCa === ca && managed.currentCertificatePem ? { replacesCertificatePem: managed.currentCertificatePem } : {}),
  });

  // 1. A CSR job per host, once. With a CA whose http-01 challenges the host's agent answers, the order is
  //    placed first and the same job serves its tokens: key, CSR and tokens take one round trip to the agent.
  //    A job made in this call is not answered yet: it is not read back.
  const justCreated = new Set<string>();
  for (const [i, agentId] of keyHosts.entries()) {
    if (progress.csrJobs.some((j) => j.agentId === agentId)) continue;
    const keyId = `r-${run.id.slice(0, 8)}-${createHash('sha256').update(`${run.id}:${agentId}`).digest('hex').slice(0, 16)}-${i}`;
    const ipAddresses = managed.ipAddresses;
    const serveHttp01 = await refusalFails(ca, async () => orderBeforeKey(ctx, await deps.loadIssuer(tx, ca), request(agentId, ''), agentId, progress.http01 ??= []));
    const ref = await startAgentJob(ctx, agentId, 'makeCsr', {
      keyId, keyType: template.key.type, commonName: managed.dnsNames[0] ?? '', dnsNames: managed.dnsNames, ipAddresses,
      ...(serveHttp01 ? { serveHttp01 } : {}),
    });
    if (serveHttp01) servedWithKey(progress.http01!, agentId, ref);
    progress.csrJobs.push({ ...ref, keyId });
    justCreated.add(ref.jobId);
  }

  // 2. Each answered CSR goes to the CA.
  const open = progress.csrJobs.filter((ref) => !progress.issued.some((c) => c.agentId === ref.agentId));
  const jobs = await readJobs(tx, open.filter((ref) => !justCreated.has(ref.jobId)));
  const waitingFor: string[] = [];
  for (const ref of open) {
    if (justCreated.has(ref.jobId)) {
      waitingFor.push(ref.agentId);
      continue;
    }
    const job = jobs.get(ref.jobId);
    if (!job) throw new PermanentStageError(`CSR job ${ref.jobId} disappeared`);
    if (job.state === 'failed') {
      const serving = progress.http01?.find((p) => p.startJob?.jobId === ref.jobId);
      if (!serving) throw new PermanentStageError(`agent ${ref.agentId} could not make a key and CSR: ${job.error ?? 'no reason given'}`);
      // It may have started serving before the key failed: told to stop, in this commit.
      await stopServing(ctx, serving);
      return { type: 'fail', error: `agent ${ref.agentId} cannot answer http-01 for ${ca} and make the key: ${job.error ?? 'no reason given'}`,
        output: { issued: progress.issued.length, of: hosts.length } };
    }
    if (job.state !== 'succeeded') {
      if (jobTimedOut(job, deps.settings.agentJobTimeoutMs, now)) throw new PermanentStageError(`agent ${ref.agentId} did not answer the CSR job within ${Math.round(deps.settings.agentJobTimeoutMs / 60000)} min`);
      waitingFor.push(ref.agentId);
      continue;
    }
    const csr = (job.result as { csr?: { csrPem: string; publicKeySha256: string } } | null)?.csr;
    if (!csr?.csrPem) throw new PermanentStageError(`agent ${ref.agentId} answered the CSR job without a CSR`);
    const issuer = await deps.loadIssuer(tx, ca);
    const req = request(ref.agentId, csr.csrPem);
    const step = await refusalFails(ca, async (): Promise<Http01Step> => {
      const http01 = isStaged(issuer) ? await issuer.agentHttp01() : null;
      if (http01 && isStaged(issuer)) {
        return issueThroughAgentHttp01(ctx, issuer, { ...http01, ...template.ca.http01 }, req, ref.agentId, progress.http01 ??= [], jobs);
      }
      return { type: 'issued', cert: await issuer.issue(req, ctx.signal) };
    });
    if (step.type === 'failed') return { type: 'fail', error: step.error, output: { issued: progress.issued.length, of: hosts.length } };
    if (step.type === 'waiting') {
      waitingFor.push(ref.agentId);
      continue;
    }
    const { cert } = step;
    checkIssued(cert, csr.publicKeySha256, managed.dnsNames);
    progress.issued.push({
      agentId: ref.agentId, keyId: ref.keyId, certificatePem: cert.certificatePem, chainPem: cert.chainPem, fingerprintSha256: cert.fingerprintSha256,
      serialHex: cert.serialHex, notBefore: cert.notBefore.toISOString(), notAfter: cert.notAfter.toISOString(), ca,
    });
    await ctx.emit({ kind: 'certificate.issued', severity: 'info', summary: `${ca} issued a certificate for ${managed.dnsNames.join(', ')} (serial ${cert.serialHex})`,
      details: { agentId: ref.agentId, fingerprintSha256: cert.fingerprintSha256, notAfter: cert.notAfter.toISOString() } });
    await ctx.audit('certificate.issued', { ca, agentId: ref.agentId, serial: cert.serialHex, fingerprintSha256: cert.fingerprintSha256 });
  }
  if (waitingFor.length > 0) {
    const what = progress.http01?.length ? 'CSR or http-01 answer' : 'CSR';
    return { type: 'wait', reason: `${what} from ${waitingFor.length} agent(s)`, output: { issued: progress.issued.length, of: hosts.length } };
  }
  if (shared) {
    const waitingForExport = await shareIssuedKey(ctx, hosts, progress.issued, progress);
    if (waitingForExport) return { type: 'wait', reason: waitingForExport, output: { issued: 1, sharedWith: hosts.length - 1 } };
  }
  return { type: 'done', output: { ca, certificates: progress.issued.map(({ certificatePem: _c, chainPem: _ch, encryptedKey: _k, ...rest }) => rest) } };
};

/** The CA's refusal (policy, names) fails the run with its words; anything else is retried. */
async function refusalFails<T>(ca: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof IssuerPolicyError) throw new PermanentStageError(`${ca} refused: ${err.message}`);
    throw err;
  }
}

/** The CA must have certified the host's key and exactly the names asked for. */
export function checkIssued(cert: IssuedCertificate, csrPublicKeySha256: string, dnsNames: string[]): void {
  const { x509, spkiDer } = parsedCertificate(cert.certificatePem);
  const keyHash = createHash('sha256').update(spkiDer).digest('hex');
  if (csrPublicKeySha256 && keyHash !== csrPublicKeySha256.toLowerCase()) {
    throw new PermanentStageError('the CA returned a certificate whose public key is not the one in the CSR');
  }
  const sans = (x509.subjectAltName ?? '').split(', ').filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4).toLowerCase()).sort();
  const wanted = [...new Set(dnsNames.map((n) => n.toLowerCase()))].sort();
  if (sans.join(',') !== wanted.join(',')) {
    throw new PermanentStageError(`the CA returned a certificate for ${sans.join(', ') || 'no DNS names'}, not ${wanted.join(', ')}`);
  }
}
