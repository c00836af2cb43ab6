// The controller's own look at an endpoint it can reach: a TLS handshake with SNI, then the same verdicts an
// agent gives after a deploy — the served leaf is the expected one (SHA-256 fingerprint), its chain verifies
// to the given roots, it covers the name, and it is valid now. A second opinion from outside the host: an
// agent validating over loopback cannot see a load balancer or a firewall in front of its server.
import { isIP } from 'node:net';
import { checkServerIdentity, connect, type PeerCertificate } from 'node:tls';
import type { X509Certificate } from 'node:crypto';

export type EndpointFailure = 'unreachable' | 'fingerprint' | 'chain' | 'names' | 'validity';

export interface CheckEndpointInput {
  host: string;
  port: number;
  /** Sent as SNI (unless it is an IP address) and checked against the certificate; the host when absent. */
  serverName?: string;
  /** SHA-256 of the expected leaf's DER, hex (colons and case do not matter). */
  expectedFingerprintSha256: string;
  /** PEM roots the served chain must verify to; absent: Node's bundled public roots. */
  trustedRootsPem?: string;
  timeoutMs?: number;
  /** Handshakes to try while the endpoint still serves another certificate or does not answer (a reload settling). */
  attempts?: number;
  retryDelayMs?: number;
  now?: Date;
}

export interface CheckEndpointResult {
  ok: boolean;
  /** SHA-256 (lowercase hex) of the leaf served; null when no handshake completed. */
  servedFingerprint: string | null;
  failure?: EndpointFailure;
  reason?: string;
  attempts: number;
}

interface Served {
  leaf: X509Certificate;
  peer: PeerCertificate;
  authorized: boolean;
  authorizationError: string | null;
}

const hex = (fingerprint: string) => fingerprint.replaceAll(':', '').toLowerCase();

function handshake(input: CheckEndpointInput, name: string): Promise<Served> {
  const roots = input.trustedRootsPem?.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? undefined;
  const timeoutMs = input.timeoutMs ?? 5000;
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: input.host,
      port: input.port,
      servername: isIP(name) ? undefined : name,
      ca: roots,
      // Judged below, so a bad chain or name is a verdict with a reason rather than a dropped connection;
      // Node would fold a name mismatch into "not authorized", so names are checked on their own.
      rejectUnauthorized: false,
      checkServerIdentity: () => undefined,
    });
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no handshake within ${timeoutMs} ms`)));
    socket.once('secureConnect', () => {
      // In this order: on Node 20, getPeerCertificate() after getPeerX509Certificate() returns an empty object.
      const peer = socket.getPeerCertificate(true);
      const leaf = socket.getPeerX509Certificate();
      const served = { peer, authorized: socket.authorized, authorizationError: socket.authorizationError ? String(socket.authorizationError) : null };
      socket.destroy();
      if (leaf) resolve({ leaf, ...served });
      else reject(new Error('no certificate was served'));
    });
    socket.once('error', reject);
  });
}

function judge(served: Served, input: CheckEndpointInput, name: string): Pick<CheckEndpointResult, 'failure' | 'reason'> | null {
  const fingerprint = hex(served.leaf.fingerprint256);
  if (fingerprint !== hex(input.expectedFingerprintSha256)) {
    return { failure: 'fingerprint', reason: `serves ${fingerprint}, expected ${hex(input.expectedFingerprintSha256)}` };
  }
  if (!served.authorized) return { failure: 'chain', reason: `the served chain does not verify to the trusted roots (${served.authorizationError ?? 'unknown error'})` };
  const mismatch = checkServerIdentity(name, served.peer);
  if (mismatch) return { failure: 'names', reason: mismatch.message };
  const now = input.now ?? new Date();
  const from = new Date(served.leaf.validFrom);
  const to = new Date(served.leaf.validTo);
  if (now < from || now > to) return { failure: 'validity', reason: `valid from ${from.toISOString()} to ${to.toISOString()}, not at ${now.toISOString()}` };
  return null;
}

export async function checkEndpoint(input: CheckEndpointInput): Promise<CheckEndpointResult> {
  const name = input.serverName || input.host;
  const attempts = Math.max(1, input.attempts ?? 1);
  let last: CheckEndpointResult = { ok: false, servedFingerprint: null, failure: 'unreachable', reason: 'not tried', attempts: 0 };
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (attempt > 1) await new Promise((resolve) => setTimeout(resolve, input.retryDelayMs ?? 250));
    let served: Served;
    try {
      served = await handshake(input, name);
    } catch (err) {
      last = { ok: false, servedFingerprint: null, failure: 'unreachable', reason: `${input.host}:${input.port} gave no TLS handshake: ${(err as Error).message}`, attempts: attempt };
      continue;
    }
    const verdict = judge(served, input, name);
    last = { ok: verdict === null, servedFingerprint: hex(served.leaf.fingerprint256), ...verdict, attempts: attempt };
    // Only "not there yet" is worth waiting for: a wrong chain, name or date on the expected leaf is final.
    if (verdict?.failure !== 'fingerprint') return last;
  }
  return last;
}
