// NATS for tests.
//
// - The shared server (CERTFLOW_TEST_NATS_URL, default nats://127.0.0.1:4222) keeps JetStream state
//   across runs and is used by test files running in parallel: name streams, consumers and KV
//   buckets with uniquePrefix() and clean up with deleteStreamsWithPrefix().
// - startPrivateNats(): a nats-server of its own on a free port, for tests that stop or restart NATS.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import { freePort } from './free-port.js';

export const DEFAULT_TEST_NATS_URL = 'nats://127.0.0.1:4222';

export function testNatsUrl(): string {
  return process.env.CERTFLOW_TEST_NATS_URL || DEFAULT_TEST_NATS_URL;
}

/**
 * A short prefix (`t` + 8 hex digits) for stream, subject, consumer and bucket names, unique per
 * call. Valid in all of them: letters and digits only.
 */
export function uniquePrefix(): string {
  return `t${randomBytes(4).toString('hex')}`;
}

/**
 * Deletes every JetStream stream whose name starts with `prefix`, including the streams behind KV
 * buckets (`KV_<bucket>`) and object stores (`OBJ_<bucket>`) named with it. Returns the names deleted.
 */
export async function deleteStreamsWithPrefix(natsUrl: string, prefix: string): Promise<string[]> {
  if (!prefix) throw new Error('deleteStreamsWithPrefix: refusing an empty prefix');
  const nc = await connect({ servers: natsUrl, timeout: 5_000 });
  try {
    const jsm = await nc.jetstreamManager();
    const names: string[] = [];
    for await (const info of jsm.streams.list()) {
      const name = info.config.name;
      if (name.startsWith(prefix) || name.startsWith(`KV_${prefix}`) || name.startsWith(`OBJ_${prefix}`)) {
        names.push(name);
      }
    }
    for (const name of names) await jsm.streams.delete(name);
    return names;
  } finally {
    await nc.close();
  }
}

// --- a private server --------------------------------------------------------------------------

const NATS_SERVER_BIN = process.env.CERTFLOW_NATS_SERVER_BIN || '/usr/sbin/nats-server';

export interface PrivateNats {
  /** nats://127.0.0.1:<port> */
  url: string;
  port: number;
  /** Stops the server (SIGTERM, SIGKILL after 5 s); the JetStream store is kept for start(). */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same JetStream store. No-op if running. */
  start(): Promise<void>;
  /** stop() then start(): clients see the connection drop and come back. */
  restart(): Promise<void>;
  /** Stops it and deletes its store. Done automatically when the test process exits. */
  destroy(): Promise<void>;
}

// Servers still running when the test process exits would outlive it: kill them and delete their
// stores synchronously on the way out.
const liveServers = new Map<string, () => ChildProcess | undefined>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const [dir, child] of liveServers) {
      child()?.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port. */
function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function startPrivateNats(): Promise<PrivateNats> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'certflow-nats-'));
  let child: ChildProcess | undefined;
  let output = '';
  liveServers.set(dir, () => child);
  installExitHook();

  async function start(): Promise<void> {
    if (child) return;
    output = '';
    const proc = spawn(NATS_SERVER_BIN, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    // nats-server logs to stderr. Keep the tail for error messages, and keep reading: a full pipe
    // would block the server.
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    let exited: string | undefined;
    proc.once('error', (err) => (exited = `could not run ${NATS_SERVER_BIN}: ${err.message}`));
    proc.once('exit', (code, signal) => {
      exited = `nats-server exited (code ${code}, signal ${signal})`;
      if (child === proc) child = undefined;
    });

    const deadline = Date.now() + 15_000;
    for (;;) {
      if (exited) throw new Error(`${exited}\n${output}`);
      if (await canConnect(port)) return;
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(`nats-server did not accept connections on port ${port} within 15 s\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async function stop(): Promise<void> {
    const proc = child;
    if (!proc) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
    child = undefined;
  }

  const server: PrivateNats = {
    url: `nats://127.0.0.1:${port}`,
    port,
    start,
    stop,
    async restart() {
      await stop();
      await start();
    },
    async destroy() {
      await stop();
      liveServers.delete(dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };

  try {
    await start();
  } catch (err) {
    await server.destroy().catch(() => undefined);
    throw err;
  }
  return server;
}
