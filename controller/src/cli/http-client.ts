// A small client for the admin API: bearer token, JSON in and out, problem documents turned into
// ApiProblemError, and network failures turned into messages that name the URL that failed.
import { ApiProblemError, CliError } from './cli-errors.js';

export type QueryValue = string | number | boolean | undefined;

const REQUEST_TIMEOUT_MS = 30_000;

export class ApiClient {
  readonly baseUrl: string;

  constructor(baseUrl: string, private readonly token: string, private readonly signal?: AbortSignal) {
    this.baseUrl = normalizeBaseUrl(baseUrl);
  }

  get<T>(path: string, query: Record<string, QueryValue> = {}): Promise<T> {
    const url = new URL(this.baseUrl + path);
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return this.request<T>('GET', url);
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('POST', new URL(this.baseUrl + path), body);
  }

  delete<T>(path: string): Promise<T> {
    return this.request<T>('DELETE', new URL(this.baseUrl + path));
  }

  put<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PUT', new URL(this.baseUrl + path), body);
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PATCH', new URL(this.baseUrl + path), body);
  }

  private async request<T>(method: string, url: URL, body?: unknown): Promise<T> {
    const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
    const signal = this.signal ? AbortSignal.any([this.signal, timeout]) : timeout;
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        signal,
        headers: {
          authorization: `Bearer ${this.token}`,
          accept: 'application/json, application/problem+json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (cause) {
      throw networkError(this.baseUrl, cause);
    }
    const text = await response.text();
    const parsed = parseJson(text);
    if (!response.ok) throw responseError(response, parsed, this.baseUrl);
    if (parsed === undefined) throw new CliError(`${this.baseUrl} answered ${method} ${url.pathname} with something that is not JSON`);
    return parsed as T;
  }
}

/** "https://host:7080/" and "https://host:7080" are the same controller; paths are added to it. */
export function normalizeBaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError(`"${raw}" is not a URL (expected e.g. http://127.0.0.1:7080)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CliError(`"${raw}" is not an http(s) URL`);
  return url.toString().replace(/\/+$/, '');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function responseError(response: Response, body: unknown, baseUrl: string): CliError {
  const problem = body as { title?: unknown; detail?: unknown } | undefined;
  if (problem && typeof problem.title === 'string') {
    return new ApiProblemError(response.status, problem.title, typeof problem.detail === 'string' ? problem.detail : '');
  }
  // Not our API (a proxy's error page, another service on that port).
  return new CliError(`${baseUrl} answered HTTP ${response.status} ${response.statusText}`.trim());
}

function networkError(baseUrl: string, error: unknown): CliError {
  const err = error as Error & { cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError') return new CliError(`no answer from ${baseUrl} within ${REQUEST_TIMEOUT_MS / 1000} s`);
  if (err.name === 'AbortError') return new CliError('interrupted');
  const code = err.cause?.code;
  const reason = code === 'ECONNREFUSED' ? 'connection refused (is the controller running, and is this its admin API address?)'
    : code === 'ENOTFOUND' ? 'host not found'
    : code === 'ECONNRESET' ? 'connection reset'
    : code?.startsWith('ERR_TLS') || code?.includes('CERT') ? `TLS error: ${err.cause?.message ?? code}`
    : err.cause?.message ?? err.message;
  return new CliError(`cannot connect to ${baseUrl}: ${reason}`, { cause: error });
}
