// validate: each agent already proved, right after its reload, that its endpoints serve the new
// certificate (three handshakes in a row). Here the controller checks again from where it stands, for
// every endpoint it can reach: the served leaf is the new one, the chain verifies to the CA's root, the
// names match, the validity is current. An endpoint the controller cannot reach (another network) keeps
// the agent's verdict; one that serves the wrong certificate fails the stage, which rolls back.
import { checkEndpoint } from '../../validation/check-endpoint.js';
import type { StageHandler } from '../stage-handler.js';
import type { RunTarget } from './discover.js';
import type { IssuedForHost } from './issue.js';
import { issuerRootPem } from './issuer-root.js';

const SETTLE_ATTEMPTS = 5;
const SETTLE_DELAY_MS = 400;

export const validate: StageHandler = async (ctx) => {
  const { context, deps, signal } = ctx;
  const targets = (context.discover as { targets: RunTarget[] }).targets;
  const issued = (context.issueProgress as { issued: IssuedForHost[] }).issued;
  const results: { host: string; port: number; serverName?: string; checkedBy: 'controller' | 'agent'; servedFingerprint?: string | null; failure?: string }[] = [];
  const rootsByCa = new Map<string, string | undefined>();
  for (const target of targets) {
    const cert = issued.find((c) => c.agentId === target.agentId)!;
    if (!rootsByCa.has(cert.ca)) rootsByCa.set(cert.ca, await issuerRootPem(ctx, cert.ca));
    const roots = rootsByCa.get(cert.ca);
    for (const endpoint of target.endpoints ?? []) {
      let last: Awaited<ReturnType<typeof checkEndpoint>> | null = null;
      for (let attempt = 0; attempt < SETTLE_ATTEMPTS && !signal.aborted; attempt++) {
        last = await checkEndpoint({ ...endpoint, expectedFingerprintSha256: cert.fingerprintSha256, ...(roots ? { trustedRootsPem: roots } : {}) });
        if (last.ok || last.failure === 'unreachable') break;
        await new Promise((r) => setTimeout(r, SETTLE_DELAY_MS));
      }
      if (!last || last.failure === 'unreachable') {
        results.push({ ...endpoint, checkedBy: 'agent' });
      } else if (!last.ok) {
        return {
          type: 'fail',
          error: `${endpoint.serverName ?? endpoint.host}:${endpoint.port} ${describeFailure(last.failure)} (served ${last.servedFingerprint?.slice(0, 16) ?? 'nothing'}…, expected ${cert.fingerprintSha256.slice(0, 16)}…)`,
          output: { endpoints: [...results, { ...endpoint, checkedBy: 'controller', servedFingerprint: last.servedFingerprint, failure: last.failure }] },
        };
      } else {
        results.push({ ...endpoint, checkedBy: 'controller', servedFingerprint: last.servedFingerprint });
      }
    }
  }
  await deps.log.debug?.({ runId: ctx.run.id, endpoints: results.length }, 'validated');
  return { type: 'done', output: { endpoints: results, note: results.length === 0 ? 'no TLS endpoint serves this certificate; the agents checked the files they wrote' : undefined } };
};

function describeFailure(failure: string | undefined): string {
  switch (failure) {
    case 'fingerprint': return 'does not serve the new certificate';
    case 'chain': return 'serves a chain that does not verify to the CA root';
    case 'names': return 'serves a certificate whose names do not match';
    case 'validity': return 'serves a certificate outside its validity';
    default: return `failed validation (${failure ?? 'unknown'})`;
  }
}
