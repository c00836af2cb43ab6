// One TLS handshake against one endpoint, to record the chain it actually serves. We record, we do not
// trust: verification never stops the handshake, but its verdict against Node's default CA store is kept,
// because that is what a client connecting to the endpoint would see.
//
// Every outcome of the network is a result, never an exception: refused, reset, not TLS, timed out. Only
// cancellation through the AbortSignal rejects. The socket is destroyed on every path.
import { isIP } from 'node:net';
import { connect, type TLSSocket } from 'node:tls';

export interface ProbeTarget {
  host: string;
  port: number;
  /** Sent as SNI unless it is an IP literal (TLS forbids IP addresses in SNI). */
  serverName?: string;
}

export interface TlsProbeOptions {
  /** Whole probe, connect plus handshake. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Offered so that the negotiated protocol can be recorded; [] offers none. */
  alpnProtocols?: string[];
}

interface ProbedEndpoint {
  host: string;
  port: number;
  serverName: string | null;
}

export type TlsProbeResult =
  | (ProbedEndpoint & {
    ok: true;
    /** DER, leaf first, in the order the server sent them (extra or misordered certificates included). */
    chain: Buffer[];
    protocol: string;
    cipher: string;
    authorized: boolean;
    authorizationError: string | null;
    alpn: string | null;
  })
  | (ProbedEndpoint & {
    ok: false;
    /** 'timeout', 'refused', 'reset', 'closed before handshake', 'not TLS: <reason>', 'handshake failed: <reason>', or an errno code. */
    error: string;
  });

/** The shape of probeTls, so scanners can take another (tests record every target through one). */
export type ProbeFunction = (target: ProbeTarget, options: TlsProbeOptions) => Promise<TlsProbeResult>;

export const DEFAULT_PROBE_TIMEOUT_MS = 5_000;
// What a browser offers; without an offer no server would tell us its ALPN choice.
const DEFAULT_ALPN = ['h2', 'http/1.1'];
// A chain is a handful of certificates; the bound only guards the walk below against a malformed one.
const MAX_CHAIN_LENGTH = 32;

// OpenSSL reasons for bytes that are not a TLS record at all: an HTTP response, an SSH banner, SMTP greeting.
const NOT_TLS_REASONS = new Set([
  'wrong version number',
  'packet length too long',
  'record layer failure',
  'unknown protocol',
  'http request',
  'bad record type',
  'record too large',
]);

export function probeTls(target: ProbeTarget, options: TlsProbeOptions = {}): Promise<TlsProbeResult> {
  const { signal } = options;
  const timeoutMs = options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const endpoint: ProbedEndpoint = { host: target.host, port: target.port, serverName: target.serverName ?? null };
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const sni = target.serverName !== undefined && isIP(target.serverName) === 0 ? target.serverName : undefined;
    const socket = connect({
      host: target.host,
      port: target.port,
      servername: sni,
      // Record, do not trust: an expired or self-signed certificate is exactly what discovery must see.
      rejectUnauthorized: false,
      ALPNProtocols: options.alpnProtocols ?? DEFAULT_ALPN,
    });
    let settled = false;
    const settle = (outcome: { result: TlsProbeResult } | { abort: unknown }): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      if ('result' in outcome) resolve(outcome.result);
      else reject(outcome.abort);
    };
    const fail = (error: string): void => settle({ result: { ...endpoint, ok: false, error } });
    const onAbort = (): void => settle({ abort: signal?.reason });
    // A fixed deadline, not socket.setTimeout: a server trickling bytes must not keep the probe alive.
    const timer = setTimeout(() => fail('timeout'), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });

    socket.once('secureConnect', () => {
      try {
        settle({ result: { ...endpoint, ...handshakeFacts(socket) } });
      } catch (err) {
        fail(err instanceof Error ? err.message : String(err));
      }
    });
    // Stays attached after settling: a late error on a destroyed socket must not become an uncaught one.
    socket.on('error', (err) => fail(describeError(err)));
    socket.once('close', () => fail('closed before handshake'));
  });
}

function handshakeFacts(socket: TLSSocket) {
  // getPeerX509Certificate().issuerCertificate follows the certificates exactly as the server sent them;
  // getPeerCertificate(true) instead re-links them by issuer, drops extras and appends a root from the local
  // trust store that the server never sent, which would hide an incomplete chain.
  const chain: Buffer[] = [];
  for (let cert = socket.getPeerX509Certificate(); cert && chain.length < MAX_CHAIN_LENGTH; cert = cert.issuerCertificate) {
    chain.push(cert.raw);
  }
  if (chain.length === 0) throw new Error('no certificate presented');
  // rejectUnauthorized: false still runs chain verification against the default CA store and the hostname
  // check (SNI name, else the host), so these are the verdict a default client would reach.
  const authorizationError = socket.authorizationError as unknown as string | Error | null | undefined;
  return {
    ok: true as const,
    chain,
    protocol: socket.getProtocol() ?? 'unknown',
    cipher: socket.getCipher().name,
    authorized: socket.authorized,
    authorizationError: authorizationError === null || authorizationError === undefined
      ? null
      : typeof authorizationError === 'string' ? authorizationError : authorizationError.message,
    alpn: typeof socket.alpnProtocol === 'string' ? socket.alpnProtocol : null,
  };
}

interface OpenSslError extends NodeJS.ErrnoException {
  reason?: string;
}

function describeError(err: OpenSslError): string {
  if (err.code === 'ECONNREFUSED') return 'refused';
  if (err.code === 'ECONNRESET') {
    // Node reports a peer that closes without answering the ClientHello as a reset too; say what happened.
    return /before secure TLS connection/.test(err.message) ? 'closed before handshake' : 'reset';
  }
  if (err.code?.startsWith('ERR_SSL_')) {
    const reason = err.reason ?? err.message;
    return NOT_TLS_REASONS.has(reason) ? `not TLS: ${reason}` : `handshake failed: ${reason}`;
  }
  return err.code ?? err.message;
}
