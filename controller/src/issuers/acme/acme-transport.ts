// The HTTP layer under acme-client, set up once per process. acme-client sends everything through one
// shared axios instance (`acme.axios`), so per-CA behaviour is chosen here by the request's origin and by
// the calling operation's context (AsyncLocalStorage):
// - trust: a private ACME server's TLS CA is trusted through an https agent for its origin only, never a
//   process-wide NODE_EXTRA_CA_CERTS;
// - rate limits: acme-client's own retry (5 attempts, 5 s apart, also on refused connections) is removed.
//   A 429/503 with Retry-After closes the origin until then for every request of this process, and is
//   waited out (twice at most) only when it is short; otherwise the attempt fails at once. So a CA that
//   says "later" gets no retry storm, and an unreachable CA fails fast, letting the workflow fall back;
// - errors: acme-client turns problem documents into bare messages; the last problem (type, status,
//   detail) and network error are kept in the operation's context so errors can be classified;
// - connections: one keep-alive https agent per origin, with its TLS context built once. acme-client asks
//   for a fresh nonce (HEAD newNonce) before every signed request, and Node closes the connection after a
//   HEAD response without Content-Length (Pebble's, Go's): so every request used to open a connection.
//   The Replay-Nonce of every response is kept per origin instead (RFC 8555 7.2: any response's nonce is
//   good for the next request) and used by the next signed request (tuneClient), which asks the CA (HEAD)
//   only when none is kept; a nonce is used once, and a stale one costs a badNonce answer, which
//   acme-client retries with the nonce that answer carries.
import * as acme from 'acme-client';
import { AsyncLocalStorage } from 'node:async_hooks';
import { createPrivateKey } from 'node:crypto';
import { Agent } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { createSecureContext } from 'node:tls';

export interface AcmeProblem {
  status: number;
  /** e.g. `urn:ietf:params:acme:error:rejectedIdentifier` */
  type: string | null;
  detail: string;
  /** From Retry-After, when the CA sent one. */
  retryAfter: Date | null;
}

export interface AcmeCallContext {
  maxRetryAfterMs: number;
  signal?: AbortSignal;
  lastProblem?: AcmeProblem;
  lastNetworkError?: string;
}

/** The CA asked for more time than this attempt may wait (or closed the origin earlier for that long). */
export class AcmeRateLimitedError extends Error {
  override name = 'AcmeRateLimitedError';
  constructor(readonly origin: string, readonly until: Date, detail: string) {
    super(`${origin} rate-limits this client until ${until.toISOString()}${detail ? `: ${detail}` : ''}`);
  }
}

const REQUEST_TIMEOUT_MS = 30_000;
const MAX_RETRIES = 2;
// An idle kept-alive connection is closed after this, before a server's own idle timeout (Node's is 5 s)
// can close it under a request reusing it.
const IDLE_SOCKET_MS = 4_000;
// Nonces kept per origin: the newest are handed out first; older ones are likelier to be refused as stale.
const MAX_POOLED_NONCES = 64;
const NONCE_MAX_AGE_MS = 30_000;
const BAD_NONCE = 'urn:ietf:params:acme:error:badNonce';

interface OriginState {
  agent?: Agent;
  /** The PEM `agent` trusts; null: the default roots. Undefined until trustForOrigin. */
  trustPem?: string | null;
  nonces: { value: string; at: number }[];
  blockedUntil: number;
  blockedDetail: string;
}

const origins = new Map<string, OriginState>();
const context = new AsyncLocalStorage<AcmeCallContext>();

function originOf(url: string | undefined): string {
  try {
    return new URL(url ?? '').origin;
  } catch {
    return '';
  }
}

function stateOf(origin: string): OriginState {
  let state = origins.get(origin);
  if (!state) origins.set(origin, (state = { nonces: [], blockedUntil: 0, blockedDetail: '' }));
  return state;
}

/**
 * Trust `pem` (or, without one, the default roots) for TLS to the origin of `url`, and only it: requests
 * to it go through a keep-alive agent whose TLS context is built here, once. Idempotent for the same PEM.
 */
export function trustForOrigin(url: string, pem: string | undefined): void {
  const state = stateOf(originOf(url));
  const trust = pem ?? null;
  if (state.trustPem === trust) return;
  state.agent?.destroy();
  state.trustPem = trust;
  // The context is passed instead of `ca`, so a new connection does not build (and load the PEM into) one.
  const secureContext = createSecureContext(trust ? { ca: trust } : {});
  state.agent = new Agent({ secureContext, keepAlive: true, timeout: IDLE_SOCKET_MS });
}

/** The https agent for `url`'s origin (for requests certflow makes itself, e.g. ARI). */
export function agentFor(url: string): Agent | undefined {
  return origins.get(originOf(url))?.agent;
}

/** Seconds, or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: unknown, now = Date.now()): Date | null {
  if (typeof value !== 'string' || value.trim() === '') return null;
  if (/^\d+$/.test(value.trim())) return new Date(now + Number(value.trim()) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : new Date(at);
}

/** Keeps a nonce the CA sent, for the next signed request to its origin. */
function keepNonce(url: string | undefined, nonce: string): void {
  const pool = stateOf(originOf(url)).nonces;
  pool.push({ value: nonce, at: Date.now() });
  if (pool.length > MAX_POOLED_NONCES) pool.shift();
}

/** The newest unused nonce of `url`'s origin that is not too old (each is handed out once), or null. */
function takeNonce(url: string | undefined): string | null {
  const pool = origins.get(originOf(url))?.nonces;
  const oldest = Date.now() - NONCE_MAX_AGE_MS;
  for (let kept = pool?.pop(); kept; kept = pool?.pop()) {
    if (kept.at >= oldest) return kept.value;
  }
  return null;
}

/** The part of acme-client's HTTP client (`client.http`, not public API) tuneClient adjusts. */
interface AcmeHttpClient {
  accountKey?: unknown;
  getNonce?: () => Promise<string>;
  getResourceUrl?: (resource: string) => Promise<string>;
}

/**
 * Adjusts a new acme-client Client where its per-request costs are avoidable (each only if acme-client
 * still has the shape this relies on; acme-client is pinned):
 * - it signs every request with the account key as PEM, so OpenSSL parses the PEM each time (about 1.7 ms
 *   for a P-256 key, twenty times the signature): it gets the parsed key, which its only users
 *   (crypto.sign, crypto.createPublicKey) take as well;
 * - it asks for a nonce (HEAD newNonce) before every signed request: it takes a kept one first.
 */
export function tuneClient(client: acme.Client): void {
  const http = (client as unknown as { http?: AcmeHttpClient }).http;
  if (!http) return;
  if (Buffer.isBuffer(http.accountKey)) http.accountKey = createPrivateKey(http.accountKey);
  const { getNonce, getResourceUrl } = http;
  if (typeof getNonce === 'function' && typeof getResourceUrl === 'function') {
    http.getNonce = async () => takeNonce(await getResourceUrl.call(http, 'newNonce')) ?? getNonce.call(http);
  }
}

/** Runs `fn` (acme-client calls) with a context collecting problems, waiting at most maxRetryAfterMs. */
export function withAcmeContext<T>(ctx: AcmeCallContext, fn: () => Promise<T>): Promise<T> {
  installTransport();
  return context.run(ctx, fn);
}

/** Marks the origin closed until `until` (a Retry-After seen outside acme-client, e.g. on ARI). */
export function closeOriginUntil(url: string, until: Date, detail: string): void {
  const state = stateOf(originOf(url));
  if (until.getTime() > state.blockedUntil) {
    state.blockedUntil = until.getTime();
    state.blockedDetail = detail;
  }
}

/** Waits while the origin is closed, or throws when that is longer than the context allows. */
export async function waitForOrigin(url: string): Promise<void> {
  const state = origins.get(originOf(url));
  const wait = (state?.blockedUntil ?? 0) - Date.now();
  if (!state || wait <= 0) return;
  const ctx = context.getStore();
  if (wait > (ctx?.maxRetryAfterMs ?? 0)) {
    throw new AcmeRateLimitedError(originOf(url), new Date(state.blockedUntil), state.blockedDetail);
  }
  await sleep(wait, undefined, { signal: ctx?.signal });
}

// The minimal shapes of axios' config and response used here (axios is acme-client's dependency, not ours).
interface RequestConfig {
  url?: string;
  method?: string;
  timeout?: number;
  signal?: AbortSignal;
  httpsAgent?: unknown;
  certflowAttempt?: number;
}
interface Response {
  status: number;
  headers: Record<string, unknown>;
  data: unknown;
  config: RequestConfig;
}

function problemOf(response: Response): AcmeProblem {
  const data = response.data as { type?: unknown; detail?: unknown; subproblems?: { detail?: unknown }[] } | string | null;
  let detail = '';
  let type: string | null = null;
  if (data && typeof data === 'object') {
    type = typeof data.type === 'string' ? data.type : null;
    detail = typeof data.detail === 'string' ? data.detail : '';
    const subs = Array.isArray(data.subproblems) ? data.subproblems.map((s) => s?.detail).filter((d) => typeof d === 'string') : [];
    if (subs.length) detail += ` (${subs.join('; ')})`;
  } else if (typeof data === 'string') {
    detail = data.slice(0, 500);
  }
  return { status: response.status, type, detail: detail || `HTTP ${response.status}`, retryAfter: parseRetryAfter(response.headers['retry-after']) };
}

let installed = false;

function installTransport(): void {
  if (installed) return;
  installed = true;
  const axios = acme.axios;
  // Drop acme-client's retrying interceptors: their retry ignores our limits and hides network errors.
  axios.interceptors.request.clear();
  axios.interceptors.response.clear();
  (axios.defaults as { acmeSettings?: { retryMaxAttempts: number } }).acmeSettings!.retryMaxAttempts = 0;

  axios.interceptors.request.use(async (config) => {
    const c = config as RequestConfig;
    c.timeout ||= REQUEST_TIMEOUT_MS;
    const ctx = context.getStore();
    if (ctx?.signal) c.signal = ctx.signal;
    const agent = agentFor(c.url ?? '');
    if (agent) c.httpsAgent = agent;
    await waitForOrigin(c.url ?? '');
    return config;
  });

  axios.interceptors.response.use(async (res) => {
    const response = res as unknown as Response;
    const problem = response.status < 400 ? null : problemOf(response);
    // The nonce of a HEAD (acme-client's nonce request) goes to its caller, a badNonce answer's to
    // acme-client's retry: neither is kept.
    const nonce = response.headers['replay-nonce'];
    if (typeof nonce === 'string' && response.config.method?.toLowerCase() !== 'head' && problem?.type !== BAD_NONCE) {
      keepNonce(response.config.url, nonce);
    }
    if (!problem) return res;
    const ctx = context.getStore();
    if (ctx) ctx.lastProblem = problem;
    if ((response.status === 429 || response.status === 503) && problem.retryAfter) {
      closeOriginUntil(response.config.url ?? '', problem.retryAfter, problem.detail);
      const attempt = (response.config.certflowAttempt ?? 0) + 1;
      const wait = problem.retryAfter.getTime() - Date.now();
      if (attempt <= MAX_RETRIES && wait <= (ctx?.maxRetryAfterMs ?? 0)) {
        response.config.certflowAttempt = attempt;
        // A signed request re-sent with a used nonce gets badNonce, which acme-client retries with a fresh one.
        return axios.request(response.config as Parameters<typeof axios.request>[0]);
      }
    }
    return res;
  }, (error: { code?: string; message?: string }) => {
    const ctx = context.getStore();
    if (ctx) ctx.lastNetworkError = [error.code, error.message].filter(Boolean).join(': ');
    return Promise.reject(error);
  });
}
