// The reference clients of the issuance benchmark (issuance.bench.ts), each against a running Pebble with
// real http-01 validation:
// - the floor: a bare acme-client loop in this process (no database, no agent, no workflow: only the ACME
//   exchange, a P-256 key and CSR made here, and an in-process http-01 responder on Pebble's httpPort),
//   at a given number of certificates in flight;
// - lego and certbot (Debian packages): one process per certificate, as an operator's cron job runs them.
//   Each answers http-01 itself on Pebble's httpPort, so they can only run one at a time.
import * as acme from 'acme-client';
import { execFile, spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { Agent } from 'node:https';
import { join } from 'node:path';
import type { RunningPebble } from '../support/pebble.js';

/** Polling of challenges and orders: the same as certflow's ACME issuer (acme-issuer.ts POLL_MIN_MS/POLL_MAX_MS). */
export const POLL_MIN_MS = 200;
export const POLL_MAX_MS = 3_000;

export interface Measured {
  issued: number;
  failed: number;
  seconds: number;
  firstError?: string;
}

export const perSecond = (m: Measured) => m.issued / m.seconds;

/** Runs `work` over `items` with at most `concurrency` at once; counts successes and failures. */
async function timed<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<Measured> {
  const result: Measured = { issued: 0, failed: 0, seconds: 0 };
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++]!;
      try {
        await work(item);
        result.issued++;
      } catch (err) {
        result.failed++;
        result.firstError ??= (err as Error).message.slice(0, 500);
      }
    }
  }));
  result.seconds = (performance.now() - started) / 1000;
  return result;
}

/** An http-01 responder on Pebble's httpPort: serves the key authorizations put in `tokens`. */
async function startResponder(port: number, tokens: Map<string, string>): Promise<Server> {
  const server = createServer((req, res) => {
    const token = req.url?.match(/^\/\.well-known\/acme-challenge\/([^/?]+)$/)?.[1];
    const answer = token ? tokens.get(token) : undefined;
    res.writeHead(answer ? 200 : 404, { 'content-type': 'text/plain' }).end(answer ?? '');
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
  return server;
}

export interface FloorClient {
  /** Issues one certificate per name, `concurrency` at once. */
  issueAll(names: string[], concurrency: number): Promise<Measured>;
  close(): Promise<void>;
}

/** The bare acme-client loop: one account (registered here, outside any timing), keep-alive HTTPS. */
export async function startFloorClient(pebble: RunningPebble): Promise<FloorClient> {
  acme.setLogger(() => undefined);
  const httpsAgent = new Agent({ ca: pebble.tlsTrustPem, keepAlive: true });
  acme.axios.defaults.httpsAgent = httpsAgent;
  const client = new acme.Client({
    directoryUrl: pebble.directoryUrl,
    accountKey: await acme.crypto.createPrivateEcdsaKey(),
    backoffMin: POLL_MIN_MS, backoffMax: POLL_MAX_MS, backoffAttempts: 30,
  });
  await client.createAccount({ termsOfServiceAgreed: true });
  const tokens = new Map<string, string>();
  const responder = await startResponder(pebble.httpChallengePort, tokens);

  async function issueOne(name: string): Promise<void> {
    const [, csr] = await acme.crypto.createCsr({ commonName: name, altNames: [name] }, await acme.crypto.createPrivateEcdsaKey());
    const order = await client.createOrder({ identifiers: [{ type: 'dns', value: name }] });
    for (const authz of await client.getAuthorizations(order)) {
      const challenge = authz.challenges.find((c) => c.type === 'http-01');
      if (!challenge) throw new Error(`no http-01 challenge for ${name}`);
      const token = (challenge as { token: string }).token;
      tokens.set(token, await client.getChallengeKeyAuthorization(challenge));
      try {
        await client.completeChallenge(challenge);
        await client.waitForValidStatus(challenge);
      } finally {
        tokens.delete(token);
      }
    }
    const finalized = await client.finalizeOrder(order, csr);
    const pem = await client.getCertificate(finalized);
    if (!pem.includes('BEGIN CERTIFICATE')) throw new Error(`no certificate for ${name}`);
  }

  return {
    issueAll: (names, concurrency) => timed(names, concurrency, issueOne),
    async close() {
      await new Promise<void>((resolve) => responder.close(() => resolve()));
      httpsAgent.destroy();
    },
  };
}

/** Runs a program to completion; rejects with the end of its output when it fails. */
function run(program: string, args: string[], env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(program, args, { env: { ...process.env, ...env }, timeout: 120_000, maxBuffer: 10 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${program} exited ${err.code ?? err.signal}: ${(stderr || stdout).trim().split('\n').slice(-3).join(' | ')}`));
      else resolve();
    });
  });
}

/** Installs lego and certbot when missing and this process may (root); returns the ones still missing. */
export function ensureCliClients(): string[] {
  const missing = () => ['lego', 'certbot'].filter((p) => spawnSync('sh', ['-c', `command -v ${p}`]).status !== 0);
  if (missing().length && process.getuid?.() === 0) {
    console.log(`installing ${missing().join(' ')}: apt-get install -y lego certbot`);
    spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing()], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  }
  return missing();
}

export interface CliClient {
  name: 'lego' | 'certbot';
  /** Issues one certificate per name, one process after the other (they share the http-01 port). */
  issueAll(names: string[]): Promise<Measured>;
}

/** lego with its built-in http-01 server on Pebble's httpPort; one account kept under `dir`, key ec256. */
export async function legoClient(pebble: RunningPebble, dir: string): Promise<CliClient> {
  const caFile = join(dir, 'pebble-tls.pem');
  await writeFile(caFile, pebble.tlsTrustPem);
  const issueOne = (name: string) => run('lego', [
    '--accept-tos', '--email', 'bench@example.test', '--server', pebble.directoryUrl, '--path', join(dir, 'lego'),
    '--key-type', 'ec256', '--http', '--http.port', `127.0.0.1:${pebble.httpChallengePort}`, '--domains', name, 'run',
  ], { LEGO_CA_CERTIFICATES: caFile });
  return { name: 'lego', issueAll: (names) => timed(names, 1, issueOne) };
}

/** certbot certonly --standalone on Pebble's httpPort; its own config/work/log dirs under `dir`, ECDSA keys. */
export async function certbotClient(pebble: RunningPebble, dir: string): Promise<CliClient> {
  const caFile = join(dir, 'pebble-tls.pem');
  await writeFile(caFile, pebble.tlsTrustPem);
  const issueOne = (name: string) => run('certbot', [
    'certonly', '--non-interactive', '--agree-tos', '--no-eff-email', '-m', 'bench@example.test', '--server', pebble.directoryUrl,
    '--standalone', '--preferred-challenges', 'http', '--http-01-address', '127.0.0.1', '--http-01-port', String(pebble.httpChallengePort),
    '--key-type', 'ecdsa', '--cert-name', name, '-d', name,
    '--config-dir', join(dir, 'certbot', 'config'), '--work-dir', join(dir, 'certbot', 'work'), '--logs-dir', join(dir, 'certbot', 'logs'),
  ], { REQUESTS_CA_BUNDLE: caFile });
  return { name: 'certbot', issueAll: (names) => timed(names, 1, issueOne) };
}
