// ACME http-01 challenges answered on this host for the controller (Http01Challenge jobs): the CA fetches
// http://NAME/.well-known/acme-challenge/TOKEN from the host the name points to, so the agent there
// serves the key authorization, either from its own small HTTP server on a port or as files under the
// web server's webroot. The agent's config decides what is allowed: only the ports in
// acme.http01.ports, and only webroots inside deploy.allowedPaths; the controller cannot widen either.
//
// One instance lives as long as the agent process. Several challenges (runs) may share one port: one
// server per address and port serves every token started on it and closes when the last one stops.
// Everything stops by itself after a bounded time, so a controller that never says "stop" leaves nothing
// behind for long.
import { createServer, type Server } from 'node:http';
import { chmod, mkdir, realpath, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { AgentConfig } from '../config.js';
import { isInside, resolveAllowedRoots } from '../deploy/allowed-paths.js';
import type { Http01ChallengeJob__Output } from '../../../proto/generated/certflow/agent/v1/Http01ChallengeJob.js';
import type { Http01Output } from '../../../proto/generated/certflow/agent/v1/Http01Output.js';

const CHALLENGE_PATH = '/.well-known/acme-challenge/';
const TOKEN = /^[A-Za-z0-9_-]{1,256}$/;
const CHALLENGE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const MAX_TOKENS = 100;
/** A job that names no ttl gets this (capped by acme.http01.maxServeSeconds). */
const DEFAULT_TTL_SECONDS = 600;

/** The job asked for something this agent does not allow or cannot do; the message says which. */
export class Http01Refused extends Error {
  override name = 'Http01Refused';
}

interface Listener {
  server: Server;
  /** token -> key authorization, for every challenge on this address and port. */
  tokens: Map<string, string>;
}

interface Started {
  output: Http01Output;
  tokens: string[];
  listenerKey?: string;
  files: string[];
  timer: NodeJS.Timeout;
}

export class Http01Challenges {
  private readonly listeners = new Map<string, Listener>();
  private readonly started = new Map<string, Started>();
  /** Start and stop run one at a time: a stop must not overtake the start it ends. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly config: AgentConfig, private readonly log: Logger) {}

  run(job: Http01ChallengeJob__Output): Promise<Http01Output> {
    const next = this.queue.then(() => (job.action === 'stop' ? this.stop(job.challengeId) : this.start(job)));
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Every port closed and file removed (the agent is shutting down). */
  async stopAll(): Promise<void> {
    for (const id of [...this.started.keys()]) await this.stop(id);
  }

  private async start(job: Http01ChallengeJob__Output): Promise<Http01Output> {
    if (job.action !== 'start') throw new Http01Refused(`unknown http-01 action "${job.action}" (expected start or stop)`);
    if (!CHALLENGE_ID.test(job.challengeId)) throw new Http01Refused('challengeId: expected [A-Za-z0-9._-], at most 128 characters');
    // The same job delivered again (the controller resends unanswered jobs after a reconnect).
    const earlier = this.started.get(job.challengeId);
    if (earlier) return earlier.output;
    const tokens = checkTokens(job);
    const limits = this.config.acme.http01;
    const ttlSeconds = Math.min(job.ttlSeconds || DEFAULT_TTL_SECONDS, limits.maxServeSeconds);
    const expiresAt = Date.now() + ttlSeconds * 1000;
    let started: Omit<Started, 'timer'>;
    if (job.webroot) {
      const files = await this.writeWebroot(job.webroot, tokens);
      started = { tokens: [...tokens.keys()], files, output: { challengeId: job.challengeId, status: 'serving', mode: 'webroot', port: 0, files, expiresAtUnixMs: String(expiresAt) } };
    } else {
      const port = job.port || 80;
      if (!limits.ports.includes(port)) {
        throw new Http01Refused(`port ${port} is not allowed for http-01 on this agent (acme.http01.ports: ${limits.ports.length ? limits.ports.join(', ') : 'none, port mode is off'})`);
      }
      const listenerKey = await this.serveOnPort(job.bindAddress, port, tokens);
      started = { tokens: [...tokens.keys()], listenerKey, files: [], output: { challengeId: job.challengeId, status: 'serving', mode: 'port', port, files: [], expiresAtUnixMs: String(expiresAt) } };
    }
    const timer = setTimeout(() => {
      this.log.info({ challengeId: job.challengeId }, 'http-01 tokens expired; no longer served');
      void this.run({ ...job, action: 'stop' }).catch(() => undefined);
    }, ttlSeconds * 1000);
    timer.unref();
    this.started.set(job.challengeId, { ...started, timer });
    this.log.info({ challengeId: job.challengeId, mode: started.output.mode, port: started.output.port, tokens: tokens.size, ttlSeconds }, 'serving http-01 tokens');
    return started.output;
  }

  private async stop(challengeId: string): Promise<Http01Output> {
    const started = this.started.get(challengeId);
    if (!started) return { challengeId, status: 'stopped', mode: '', port: 0, files: [], expiresAtUnixMs: '0' };
    this.started.delete(challengeId);
    clearTimeout(started.timer);
    if (started.listenerKey) {
      const listener = this.listeners.get(started.listenerKey);
      if (listener) {
        for (const token of started.tokens) listener.tokens.delete(token);
        if (listener.tokens.size === 0) {
          this.listeners.delete(started.listenerKey);
          const closed = new Promise<void>((resolve) => listener.server.close(() => resolve()));
          listener.server.closeAllConnections();
          await closed;
        }
      }
    }
    const removed: string[] = [];
    for (const file of started.files) {
      await unlink(file).then(() => removed.push(file), (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') removed.push(file);
        else this.log.warn({ file, error: err.message }, 'cannot remove an http-01 token file');
      });
    }
    return { ...started.output, status: 'stopped', files: removed };
  }

  /** Adds the tokens to the server on this address and port, starting it if needed. */
  private async serveOnPort(bindAddress: string, port: number, tokens: Map<string, string>): Promise<string> {
    const key = `${bindAddress}|${port}`;
    let listener = this.listeners.get(key);
    if (!listener) {
      const served = new Map<string, string>();
      const server = createServer((req, res) => {
        const path = (req.url ?? '').split('?')[0];
        const keyAuthorization = req.method === 'GET' && path.startsWith(CHALLENGE_PATH) ? served.get(path.slice(CHALLENGE_PATH.length)) : undefined;
        if (keyAuthorization === undefined) {
          res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
          return;
        }
        res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(keyAuthorization);
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', (err: NodeJS.ErrnoException) => {
          const where = `${bindAddress || 'every address'} port ${port}`;
          reject(new Http01Refused(err.code === 'EADDRINUSE' ? `${where} is already in use by another program`
            : err.code === 'EACCES' ? `no permission to listen on ${where} (ports below 1024 need CAP_NET_BIND_SERVICE)`
              : `cannot listen on ${where}: ${err.message}`));
        });
        server.listen({ port, ...(bindAddress ? { host: bindAddress } : {}) }, () => resolve());
      });
      listener = { server, tokens: served };
      this.listeners.set(key, listener);
    }
    for (const [token, keyAuthorization] of tokens) listener.tokens.set(token, keyAuthorization);
    return key;
  }

  /** Writes one file per token under WEBROOT/.well-known/acme-challenge, only inside deploy.allowedPaths. */
  private async writeWebroot(webroot: string, tokens: Map<string, string>): Promise<string[]> {
    const roots = await resolveAllowedRoots(this.config.deploy.allowedPaths);
    const real = await realpath(webroot).catch(() => {
      throw new Http01Refused(`webroot ${webroot} does not exist`);
    });
    if (!roots.some((root) => root === real || isInside(root, real))) {
      throw new Http01Refused(`webroot ${webroot} is outside the agent's deploy.allowedPaths`);
    }
    // One level at a time, checked before going further: a symlinked .well-known leading outside is
    // refused before anything is created there.
    const realDir = await directoryInside(await directoryInside(real, '.well-known', roots), 'acme-challenge', roots);
    const files: string[] = [];
    for (const [token, keyAuthorization] of tokens) {
      const file = join(realDir, token);
      // Readable by the web server; the key authorization is public (the CA fetches it over plain HTTP).
      // chmod too: the agent's unit runs with UMask=0077, which the mode given to writeFile cannot undo.
      await writeFile(file, keyAuthorization, { mode: 0o644 });
      await chmod(file, 0o644);
      files.push(file);
    }
    return files;
  }
}

/** PARENT/NAME, made if missing (0755: the web server reads it), as a real path that must be inside `roots`. */
async function directoryInside(parent: string, name: string, roots: string[]): Promise<string> {
  const dir = join(parent, name);
  const made = await mkdir(dir, { mode: 0o755 }).then(() => true, (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
    return false;
  });
  const real = await realpath(dir);
  if (!roots.some((root) => isInside(root, real))) {
    throw new Http01Refused(`${dir} resolves to ${real}, outside the agent's deploy.allowedPaths`);
  }
  // Only a directory made here (under the unit's UMask=0077) is opened up; an operator's own stays as it is.
  if (made) await chmod(real, 0o755);
  return real;
}

function checkTokens(job: Http01ChallengeJob__Output): Map<string, string> {
  if (job.tokens.length === 0) throw new Http01Refused('no tokens to serve');
  if (job.tokens.length > MAX_TOKENS) throw new Http01Refused(`at most ${MAX_TOKENS} tokens in one job`);
  const tokens = new Map<string, string>();
  for (const t of job.tokens) {
    // The token names a file in webroot mode: nothing but base64url, so it can never be a path.
    if (!TOKEN.test(t.token)) throw new Http01Refused('a token is not base64url');
    if (!t.keyAuthorization.startsWith(`${t.token}.`) || !TOKEN.test(t.keyAuthorization.slice(t.token.length + 1))) {
      throw new Http01Refused(`the key authorization of token ${t.token} is not TOKEN.THUMBPRINT`);
    }
    tokens.set(t.token, t.keyAuthorization);
  }
  return tokens;
}
