// Proving a deploy worked from the outside: a TLS handshake with SNI to every endpoint that serves the
// certificate, checking that the served leaf is the new one (SHA-256 fingerprint), that the served chain
// verifies to the given CA roots, that the names match and that it is valid now. A reload takes effect
// asynchronously (nginx starts new workers, HAProxy re-executes), so an endpoint still serving the old
// certificate or not accepting yet is retried for a short while; a wrong chain or name on the *new*
// certificate is final at once.
import { isIP } from 'node:net';
import { checkServerIdentity, connect, type PeerCertificate } from 'node:tls';
import type { X509Certificate } from 'node:crypto';

export interface Endpoint {
  host: string;
  port: number;
  /** Sent as SNI (unless it is an IP address) and checked against the certificate's names. */
  serverName: string;
}

export interface ValidationSettings {
  attempts: number;
  /** The longest wait between attempts. */
  intervalMs: number;
  /**
   * The first wait, doubled up to intervalMs: a reload usually settles within tens of milliseconds, and a
   * fixed 300 ms step would make every deploy wait that long for nothing.
   */
  firstIntervalMs: number;
  handshakeTimeoutMs: number;
  /**
   * Consecutive handshakes that must serve the new certificate. After a graceful reload, old workers can
   * still accept a connection or two (seen with nginx): one good handshake proves the reload started,
   * not that it finished.
   */
  confirmations?: number;
}

export const DEFAULT_VALIDATION_SETTINGS: ValidationSettings = Object.freeze({ attempts: 10, intervalMs: 300, firstIntervalMs: 50, handshakeTimeoutMs: 3000, confirmations: 3 });

export type ValidationFailure = 'unreachable' | 'fingerprint' | 'chain' | 'names' | 'validity';

export interface EndpointValidation {
  endpoint: Endpoint;
  ok: boolean;
  failure?: ValidationFailure;
  reason?: string;
  servedFingerprint256: string | null;
  attempts: number;
  ms: number;
}

export interface ValidateOptions {
  /** "AB:CD:..." as X509Certificate.fingerprint256 gives it. */
  expectedFingerprint256: string;
  /** PEM roots the served chain must verify to; empty means Node's bundled public roots. */
  caRoots: readonly string[];
  /** Which checks besides the fingerprint to run; all by default (a rollback checks the fingerprint only). */
  checks?: { chain?: boolean; names?: boolean; validity?: boolean };
  settings?: ValidationSettings;
  signal: AbortSignal;
  now?: () => Date;
}

interface Handshake {
  leaf: X509Certificate;
  peer: PeerCertificate;
  authorized: boolean;
  authorizationError: string | null;
}

function handshake(endpoint: Endpoint, caRoots: readonly string[], timeoutMs: number, signal: AbortSignal): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: endpoint.host,
      port: endpoint.port,
      servername: isIP(endpoint.serverName) ? undefined : endpoint.serverName,
      ca: caRoots.length ? [...caRoots] : undefined,
      // Verification is judged below, so a failure comes back as a reason instead of a dropped connection;
      // the names are checked on their own there, so `authorized` speaks of the chain alone.
      rejectUnauthorized: false,
      checkServerIdentity: () => undefined,
    });
    const abort = () => socket.destroy(new Error('aborted'));
    signal.addEventListener('abort', abort, { once: true });
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no handshake within ${timeoutMs} ms`)));
    socket.once('secureConnect', () => {
      // In this order: on Node 20, getPeerCertificate() after getPeerX509Certificate() returns an empty object.
      const peer = socket.getPeerCertificate(true);
      const leaf = socket.getPeerX509Certificate();
      const authorizationError = socket.authorizationError ? String(socket.authorizationError) : null;
      const authorized = socket.authorized;
      signal.removeEventListener('abort', abort);
      socket.destroy();
      if (leaf) resolve({ leaf, peer, authorized, authorizationError });
      else reject(new Error('no certificate was served'));
    });
    socket.once('error', (err) => {
      signal.removeEventListener('abort', abort);
      reject(err);
    });
  });
}

/** The checks that only make sense once the new certificate is the one served. */
function judgeServedCertificate(endpoint: Endpoint, served: Handshake, options: ValidateOptions): Pick<EndpointValidation, 'failure' | 'reason'> | null {
  const checks = { chain: true, names: true, validity: true, ...options.checks };
  if (checks.chain && !served.authorized) {
    return { failure: 'chain', reason: `the served chain does not verify to the CA roots (${served.authorizationError ?? 'unknown error'})` };
  }
  if (checks.names) {
    const mismatch = checkServerIdentity(endpoint.serverName, served.peer);
    if (mismatch) return { failure: 'names', reason: mismatch.message };
  }
  if (checks.validity) {
    const now = (options.now ?? (() => new Date()))();
    const from = new Date(served.leaf.validFrom);
    const to = new Date(served.leaf.validTo);
    if (now < from || now > to) return { failure: 'validity', reason: `the served certificate is valid from ${from.toISOString()} to ${to.toISOString()}` };
  }
  return null;
}

const sleep = (ms: number, signal: AbortSignal) => new Promise<void>((resolve) => {
  const timer = setTimeout(done, ms);
  function done() {
    clearTimeout(timer);
    signal.removeEventListener('abort', done);
    resolve();
  }
  signal.addEventListener('abort', done, { once: true });
});

export async function validateEndpoint(endpoint: Endpoint, options: ValidateOptions): Promise<EndpointValidation> {
  const settings = options.settings ?? DEFAULT_VALIDATION_SETTINGS;
  const started = performance.now();
  const result = (attempts: number, served: string | null, verdict: Pick<EndpointValidation, 'failure' | 'reason'> | null): EndpointValidation => ({
    endpoint, ok: verdict === null, ...verdict, servedFingerprint256: served, attempts, ms: Math.round(performance.now() - started),
  });
  let last: { served: string | null; failure: ValidationFailure; reason: string } = { served: null, failure: 'unreachable', reason: 'was not tried' };
  // Never more confirmations than attempts: a caller allowing two attempts gets its answer from two.
  const confirmations = Math.min(settings.confirmations ?? DEFAULT_VALIDATION_SETTINGS.confirmations!, settings.attempts);
  let attempts = 0;
  let streak = 0;
  while (attempts < settings.attempts && !options.signal.aborted) {
    // While confirming, check again quickly; while waiting for the reload, back off.
    if (attempts > 0) await sleep(streak > 0 ? settings.firstIntervalMs : Math.min(settings.intervalMs, settings.firstIntervalMs * 2 ** (attempts - 1)), options.signal);
    attempts++;
    try {
      const served = await handshake(endpoint, options.caRoots, settings.handshakeTimeoutMs, options.signal);
      const fingerprint = served.leaf.fingerprint256;
      if (fingerprint === options.expectedFingerprint256) {
        streak++;
        if (streak >= confirmations) return result(attempts, fingerprint, judgeServedCertificate(endpoint, served, options));
        continue;
      }
      streak = 0;
      last = { served: fingerprint, failure: 'fingerprint', reason: `serves ${fingerprint}, expected ${options.expectedFingerprint256}` };
    } catch (err) {
      streak = 0;
      last = { served: null, failure: 'unreachable', reason: `gave no TLS handshake: ${(err as Error).message}` };
    }
  }
  return result(attempts, last.served, { failure: last.failure, reason: `${endpoint.host}:${endpoint.port} (${endpoint.serverName}) ${last.reason}` });
}

export function validateEndpoints(endpoints: readonly Endpoint[], options: ValidateOptions): Promise<EndpointValidation[]> {
  return Promise.all(endpoints.map((endpoint) => validateEndpoint(endpoint, options)));
}

/** What an endpoint serves right now (one handshake, no checks), or null when it does not answer. */
export async function probeServedFingerprint(endpoint: Endpoint, timeoutMs: number, signal: AbortSignal): Promise<string | null> {
  try {
    return (await handshake(endpoint, [], timeoutMs, signal)).leaf.fingerprint256;
  } catch {
    return null;
  }
}
