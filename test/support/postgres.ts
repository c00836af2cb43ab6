// PostgreSQL for tests.
//
// - createTestDatabase(): a fresh, uniquely named database on the shared server (CERTFLOW_TEST_PG_URL,
//   default postgres://postgres@127.0.0.1:5432/postgres). Test files run in parallel, so each one
//   gets its own database instead of sharing tables.
// - startPrivatePostgres(): a whole cluster of its own on a free port, for tests that stop, kill or
//   restart the database. Never do that to the shared server: other test files (and other people)
//   are using it.
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client, DatabaseError } from 'pg';
import { freePort } from './free-port.js';

const execFileAsync = promisify(execFile);

export const DEFAULT_TEST_PG_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** URL of the shared server's maintenance database, where test databases are created. */
export function testPgUrl(): string {
  return process.env.CERTFLOW_TEST_PG_URL || DEFAULT_TEST_PG_URL;
}

/** The same server URL pointing at another database. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function withClient<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export interface TestDatabase {
  /** Connection URL of the new database. */
  url: string;
  /** Its name, `certflow_t_<hex>`. */
  name: string;
  /** Drops it, disconnecting anyone still connected. Safe to call twice. */
  drop(): Promise<void>;
}

export async function createTestDatabase(serverUrl: string = testPgUrl()): Promise<TestDatabase> {
  const name = `certflow_t_${randomBytes(6).toString('hex')}`;
  await withClient(serverUrl, async (client) => {
    // CREATE DATABASE copies template1 and refuses while anyone else is connected to it (55006);
    // that is brief and rare, so try again a few times before giving up.
    for (let attempt = 1; ; attempt++) {
      try {
        await client.query(`CREATE DATABASE "${name}"`);
        return;
      } catch (err) {
        if (!(err instanceof DatabaseError && err.code === '55006') || attempt >= 10) throw err;
        await new Promise((r) => setTimeout(r, 200 * attempt));
      }
    }
  });

  let dropped = false;
  return {
    url: withDatabase(serverUrl, name),
    name,
    async drop() {
      if (dropped) return;
      dropped = true;
      // WITH (FORCE) (PostgreSQL 13+) terminates the remaining connections first, so a test that
      // forgot to close its ORM or pool still gets its database dropped.
      await withClient(serverUrl, (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}

// --- a private cluster -------------------------------------------------------------------------

const PG_BIN = process.env.CERTFLOW_PG_BIN_DIR || '/usr/local/bin';

export interface PrivatePostgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres (trust auth). */
  url: string;
  port: number;
  /** Clean shutdown (`pg_ctl stop -m fast`); data is kept, start() brings it back. */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same data. No-op if running. */
  start(): Promise<void>;
  /** Crash-like shutdown (`pg_ctl stop -m immediate`: no checkpoint, recovery on next start). */
  kill(): Promise<void>;
  /** Stops it and deletes its data directory. Done automatically when the test process exits. */
  destroy(): Promise<void>;
}

// Postgres refuses to run as root: run its tools as the postgres user when we are root (CI).
function asPostgres(cmd: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
}

async function run(cmd: string, args: string[]): Promise<void> {
  const [file, argv] = asPostgres(cmd, args);
  try {
    await execFileAsync(file, argv, { timeout: 120_000 });
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

// Clusters still running when the test process exits would outlive it: stop them and delete their
// directories synchronously on the way out (an 'exit' listener cannot wait for promises).
const liveClusters = new Map<string, { dataDir: string; running: () => boolean }>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const [dir, c] of liveClusters) {
      try {
        if (c.running()) {
          const [file, argv] = asPostgres(join(PG_BIN, 'pg_ctl'), ['-D', c.dataDir, '-m', 'immediate', '-w', 'stop']);
          execFileSync(file, argv, { stdio: 'ignore', timeout: 30_000 });
        }
      } catch {
        // best effort
      }
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').slice(-2000);
  } catch {
    return '(none)';
  }
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const port = await freePort();
  // The directory holds the data dir, the Unix socket (-k) and the log; postgres must own it.
  const dir = mkdtempSync(join(tmpdir(), 'certflow-pg-'));
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'postgres.log');
  if (process.getuid?.() === 0) {
    await execFileAsync('chown', ['postgres:postgres', dir]);
  }
  let running = false;
  liveClusters.set(dir, { dataDir, running: () => running });
  installExitHook();

  const pgCtl = join(PG_BIN, 'pg_ctl');
  try {
    // --no-sync and fsync=off: throwaway data, and initdb's fsyncs cost seconds on slow disks.
    // C locale/UTF8 so the result does not depend on the machine's locale settings.
    await run(join(PG_BIN, 'initdb'), ['-A', 'trust', '-U', 'postgres', '-D', dataDir, '-E', 'UTF8', '--locale=C', '--no-sync']);
  } catch (err) {
    liveClusters.delete(dir);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  const serverOptions = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;

  const cluster: PrivatePostgres = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    async start() {
      if (running) return;
      // -l: the server logs to a file; otherwise it would inherit our stdout pipe and execFile
      // would wait for it forever.
      try {
        await run(pgCtl, ['-D', dataDir, '-o', serverOptions, '-l', logFile, '-w', '-t', '60', 'start']);
      } catch (err) {
        throw new Error(`${(err as Error).message}\nserver log (${logFile}):\n${tail(logFile)}`);
      }
      running = true;
    },
    async stop() {
      if (!running) return;
      await run(pgCtl, ['-D', dataDir, '-m', 'fast', '-w', 'stop']);
      running = false;
    },
    async kill() {
      if (!running) return;
      await run(pgCtl, ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
      running = false;
    },
    async destroy() {
      if (running) await cluster.kill();
      liveClusters.delete(dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };

  try {
    await cluster.start();
  } catch (err) {
    await cluster.destroy().catch(() => undefined);
    throw err;
  }
  return cluster;
}
