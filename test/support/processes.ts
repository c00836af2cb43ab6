// Runs the real controller and agent as child processes (through tsx, from source), the way an operator
// runs them, so tests can kill and restart them. Each process keeps its output for assertions and for
// the failure message when it does not come up.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { freePort } from './free-port.js';
import { testNatsUrl } from './nats.js';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export interface RunningProcess {
  child: ChildProcess;
  output(): string;
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  stop(): Promise<number | null>;
  kill(): Promise<void>;
  exited: Promise<number | null>;
}

/**
 * Runs a TypeScript entry point with tsx. With CERTFLOW_CPU_PROFILE_DIR in `env` (e.g. a benchmark's
 * `--env CERTFLOW_CPU_PROFILE_DIR=/tmp/prof`), the process writes a V8 CPU profile there when it exits.
 */
export function runTsx(entry: string, args: string[], env: Record<string, string>): RunningProcess {
  const profile = env.CERTFLOW_CPU_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${env.CERTFLOW_CPU_PROFILE_DIR}`] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', join(repoRoot, entry), ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const running: RunningProcess = {
    child,
    exited,
    output: () => output,
    async waitForOutput(pattern, timeoutMs = 30_000) {
      const until = Date.now() + timeoutMs;
      while (!pattern.test(output)) {
        if (child.exitCode !== null) throw new Error(`process exited (${child.exitCode}) before printing ${pattern}:\n${output.slice(-3000)}`);
        if (Date.now() > until) throw new Error(`timed out waiting for ${pattern}:\n${output.slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
  return running;
}

export interface ControllerOptions {
  databaseUrl: string;
  natsUrl?: string;
  natsPrefix: string;
  masterKeyFile?: string;
  apiPort?: number;
  grpcPort?: number;
  env?: Record<string, string>;
  waitReady?: boolean;
}

export interface ControllerProcess extends RunningProcess {
  apiUrl: string;
  grpcAddress: string;
  adminToken: string;
  masterKeyFile: string;
  options: ControllerOptions;
  api(path: string, init?: RequestInit & { token?: string }): Promise<Response>;
}

export async function makeMasterKeyFile(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'certflow-key-'));
  const file = join(dir, 'master.key');
  await writeFile(file, randomBytes(32).toString('base64'), { mode: 0o600 });
  return file;
}

export async function startController(options: ControllerOptions): Promise<ControllerProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startControllerOnce(options);
    } catch (err) {
      // A port from freePort() can be taken by another process before the controller binds it: with ports
      // chosen here, try again on new ones (a port the caller gave is its own to keep).
      const portsChosenHere = options.apiPort === undefined && options.grpcPort === undefined;
      if (!portsChosenHere || attempt >= 3 || !/EADDRINUSE/.test((err as Error).message)) throw err;
    }
  }
}

async function startControllerOnce(options: ControllerOptions): Promise<ControllerProcess> {
  const apiPort = options.apiPort ?? (await freePort());
  const grpcPort = options.grpcPort ?? (await freePort());
  const masterKeyFile = options.masterKeyFile ?? (await makeMasterKeyFile());
  const adminToken = 'cfa_test_' + randomBytes(24).toString('base64url');
  const process = runTsx('controller/src/main.ts', [], {
    CERTFLOW_DATABASE_URL: options.databaseUrl,
    CERTFLOW_NATS_URL: options.natsUrl ?? testNatsUrl(),
    CERTFLOW_NATS_PREFIX: options.natsPrefix,
    CERTFLOW_MASTER_KEY_FILE: masterKeyFile,
    CERTFLOW_API_LISTEN: `127.0.0.1:${apiPort}`,
    CERTFLOW_GRPC_LISTEN: `127.0.0.1:${grpcPort}`,
    CERTFLOW_ADMIN_TOKEN: adminToken,
    CERTFLOW_CHECK_IN_INTERVAL_SECONDS: '1',
    CERTFLOW_LOG_LEVEL: 'info',
    ...options.env,
  });
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const controller: ControllerProcess = {
    ...process,
    apiUrl,
    grpcAddress: `127.0.0.1:${grpcPort}`,
    adminToken,
    masterKeyFile,
    options: { ...options, apiPort, grpcPort, masterKeyFile },
    api: (path, init = {}) => fetch(apiUrl + path, {
      ...init,
      headers: { authorization: `Bearer ${init.token ?? adminToken}`, ...(init.body ? { 'content-type': 'application/json' } : {}), ...init.headers },
    }),
  };
  if (options.waitReady !== false) await process.waitForOutput(/"msg":"controller ready"/);
  return controller;
}

/** Same database, master key, ports and admin token: what an operator's restart looks like. */
export async function restartController(previous: ControllerProcess): Promise<ControllerProcess> {
  await previous.stop();
  const next = await startController(previous.options);
  return Object.assign(next, { adminToken: previous.adminToken, api: previous.api });
}

export async function createEnrollmentToken(controller: ControllerProcess): Promise<{ token: string; caPin: string }> {
  const response = await controller.api('/api/v1/enrollment-tokens', { method: 'POST', body: JSON.stringify({ description: 'test' }) });
  if (response.status !== 201) throw new Error(`token creation failed: ${response.status} ${await response.text()}`);
  const body = (await response.json()) as { token: string; caFingerprintSha256: string };
  return { token: body.token, caPin: `sha256:${body.caFingerprintSha256}` };
}

export interface AgentProcess extends RunningProcess {
  stateDir: string;
  configFile: string;
  restart(): Promise<AgentProcess>;
}

export async function startAgent(options: {
  controller: string;
  enrollment?: { token?: string; caPin?: string };
  scanPaths: string[];
  stateDir?: string;
  extraConfig?: Record<string, unknown>;
}): Promise<AgentProcess> {
  const stateDir = options.stateDir ?? (await mkdtemp(join(tmpdir(), 'certflow-agent-')));
  const configFile = join(stateDir, 'agent.json');
  await writeFile(configFile, JSON.stringify({
    controller: options.controller,
    stateDir,
    enrollment: options.enrollment ?? {},
    scan: { paths: options.scanPaths, intervalSeconds: 3600 },
    ...options.extraConfig,
  }));
  const process = runTsx('agent/src/main.ts', ['run', '--config', configFile], {});
  const agent: AgentProcess = {
    ...process,
    stateDir,
    configFile,
    restart: async () => {
      await process.stop();
      return startAgent({ ...options, stateDir });
    },
  };
  return agent;
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** Polls `check` until it returns a truthy value. */
export async function eventually<T>(check: () => Promise<T | null | undefined | false>, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Agent config for workflow tests: no discovery of its own, deployments allowed under `dir` only. */
export function deployingAgentConfig(dir: string): Record<string, unknown> {
  return { discovery: { endpoints: { enabled: false }, configs: { enabled: false }, watch: false }, deploy: { allowedPaths: [dir] } };
}

/** The id of the first agent the controller shows online. */
export async function onlineAgentId(controller: ControllerProcess, timeoutMs = 30_000): Promise<string> {
  return eventually(async () => ((await (await controller.api('/api/v1/agents')).json()) as { items: { id: string; online: boolean }[] })
    .items.find((a) => a.online)?.id, timeoutMs, 'the agent');
}
