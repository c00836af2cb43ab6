// The controller's configuration: environment variables, optionally on top of a JSON file
// (CERTFLOW_CONFIG_FILE). This is the only module that reads process.env. Every value is checked at
// start-up; an error names the key and where it came from.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { z } from 'zod';
import { ConfigError } from './errors.js';

const hostPort = z.string().regex(/^([^\s:[\]]*|\[[0-9a-fA-F:.]+\]):\d{1,5}$/, 'expected HOST:PORT (IPv6 as [ADDRESS]:PORT)');

const configSchema = z.strictObject({
  databaseUrl: z.string().url().default('postgres://postgres@127.0.0.1:5432/certflow'),
  natsUrl: z.string().default('nats://127.0.0.1:4222'),
  /** Prefix of every JetStream stream and subject, so several installations (or tests) share one NATS. */
  natsPrefix: z.string().regex(/^[A-Za-z0-9_-]+$/).default('certflow'),
  /** 32 random bytes, base64; encrypts secrets at rest (the agent CA key, later ACME keys). */
  masterKey: z.string().optional(),
  masterKeyFile: z.string().optional(),
  apiListen: hostPort.default('127.0.0.1:7080'),
  /**
   * The base URL others reach this controller's API at (behind a load balancer: its URL). Issued
   * certificates point at `<publicUrl>/crl/<ca>.crl`. Default: http:// and the API listen address (the
   * host name when it listens on every address).
   */
  publicUrl: z.url({ protocol: /^https?$/ }).optional(),
  grpcListen: hostPort.default('0.0.0.0:7443'),
  /** Names and addresses agents use to reach the gateway; they go into its TLS certificate. */
  gatewayNames: z.array(z.string().min(1)).default(['localhost', '127.0.0.1']),
  /** An initial admin token chosen by the operator; otherwise one is generated at first start. */
  adminToken: z.string().min(24).optional(),
  checkInIntervalSeconds: z.number().int().min(1).max(3600).default(30),
  /** An agent is shown offline when it has not checked in for this many intervals. */
  offlineAfterIntervals: z.number().int().min(2).max(100).default(3),
  agentCertificateDays: z.number().int().min(1).max(3650).default(30),
  enrollmentTokenDefaultHours: z.number().int().min(1).max(24 * 365).default(24),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** How often the renewal scheduler sweeps for certificates whose window opened. */
  schedulerIntervalSeconds: z.number().min(0.1).max(3600).default(30),
  /** Runs one sweep may start: after downtime the backlog starts in waves, not all at once. */
  maxStartsPerSweep: z.number().int().min(1).max(10_000).default(50),
  /** Stage handlers one replica works at once. */
  workflowConcurrency: z.number().int().min(1).max(256).default(16),
  /** A replica that dies mid-stage: its work is redelivered to another after this. */
  workflowAckWaitSeconds: z.number().min(1).max(3600).default(30),
  stageTimeoutSeconds: z.number().min(1).max(3600).default(120),
  stageMaxAttempts: z.number().int().min(1).max(100).default(5),
  stageRetryDelaySeconds: z.number().min(0.1).max(3600).default(2),
  /** A stage waiting for an agent that never answers fails after this. */
  agentJobTimeoutMinutes: z.number().min(0.1).max(7 * 24 * 60).default(30),
  /** A stage unfinished this long raises stage.stuck (approvals have their own deadlines). */
  stageStuckAfterMinutes: z.number().min(0.1).max(7 * 24 * 60).default(60),
  /** certificate.expiring is raised once per certificate at each of these many days left. */
  expiryNoticeDays: z.array(z.coerce.number().int().min(1).max(3650)).max(10).default([30, 7, 1]),
  /** How often waiting stages, retries and deadlines are looked at. */
  workflowTickMs: z.number().int().min(50).max(60_000).default(1000),
});

export type ControllerConfig = Omit<z.infer<typeof configSchema>, 'publicUrl'> & { publicUrl: string };

/** Environment variable → config key, and how to read its value. */
const envKeys: Record<string, [keyof ControllerConfig, 'string' | 'int' | 'number' | 'list']> = {
  CERTFLOW_DATABASE_URL: ['databaseUrl', 'string'],
  CERTFLOW_NATS_URL: ['natsUrl', 'string'],
  CERTFLOW_NATS_PREFIX: ['natsPrefix', 'string'],
  CERTFLOW_MASTER_KEY: ['masterKey', 'string'],
  CERTFLOW_MASTER_KEY_FILE: ['masterKeyFile', 'string'],
  CERTFLOW_API_LISTEN: ['apiListen', 'string'],
  CERTFLOW_PUBLIC_URL: ['publicUrl', 'string'],
  CERTFLOW_GRPC_LISTEN: ['grpcListen', 'string'],
  CERTFLOW_GATEWAY_NAMES: ['gatewayNames', 'list'],
  CERTFLOW_ADMIN_TOKEN: ['adminToken', 'string'],
  CERTFLOW_CHECK_IN_INTERVAL_SECONDS: ['checkInIntervalSeconds', 'int'],
  CERTFLOW_OFFLINE_AFTER_INTERVALS: ['offlineAfterIntervals', 'int'],
  CERTFLOW_AGENT_CERTIFICATE_DAYS: ['agentCertificateDays', 'int'],
  CERTFLOW_ENROLLMENT_TOKEN_DEFAULT_HOURS: ['enrollmentTokenDefaultHours', 'int'],
  CERTFLOW_LOG_LEVEL: ['logLevel', 'string'],
  CERTFLOW_SCHEDULER_INTERVAL_SECONDS: ['schedulerIntervalSeconds', 'number'],
  CERTFLOW_MAX_STARTS_PER_SWEEP: ['maxStartsPerSweep', 'int'],
  CERTFLOW_WORKFLOW_CONCURRENCY: ['workflowConcurrency', 'int'],
  CERTFLOW_WORKFLOW_ACK_WAIT_SECONDS: ['workflowAckWaitSeconds', 'number'],
  CERTFLOW_STAGE_TIMEOUT_SECONDS: ['stageTimeoutSeconds', 'number'],
  CERTFLOW_STAGE_MAX_ATTEMPTS: ['stageMaxAttempts', 'int'],
  CERTFLOW_STAGE_RETRY_DELAY_SECONDS: ['stageRetryDelaySeconds', 'number'],
  CERTFLOW_AGENT_JOB_TIMEOUT_MINUTES: ['agentJobTimeoutMinutes', 'number'],
  CERTFLOW_STAGE_STUCK_AFTER_MINUTES: ['stageStuckAfterMinutes', 'number'],
  CERTFLOW_WORKFLOW_TICK_MS: ['workflowTickMs', 'int'],
  CERTFLOW_EXPIRY_NOTICE_DAYS: ['expiryNoticeDays', 'list'],
};

export function loadControllerConfig(env: NodeJS.ProcessEnv = process.env): ControllerConfig {
  const file = env.CERTFLOW_CONFIG_FILE;
  const fromFile = file ? readJsonFile(file) : {};
  const fromEnv: Record<string, unknown> = {};
  for (const [name, [key, kind]] of Object.entries(envKeys)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    if (kind === 'int') {
      if (!/^\d+$/.test(raw)) throw new ConfigError(`${name}: expected a whole number, got "${raw}"`);
      fromEnv[key] = Number(raw);
    } else if (kind === 'number') {
      if (!/^\d+(\.\d+)?$/.test(raw)) throw new ConfigError(`${name}: expected a number, got "${raw}"`);
      fromEnv[key] = Number(raw);
    } else if (kind === 'list') {
      fromEnv[key] = raw.split(',').map((s) => s.trim()).filter(Boolean);
    } else {
      fromEnv[key] = raw;
    }
  }
  const parsed = configSchema.safeParse({ ...fromFile, ...fromEnv });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issue.path.join('.') || '(root)';
    const envName = Object.entries(envKeys).find(([, [k]]) => k === issue.path[0])?.[0];
    const source = envName && envName in env ? `environment variable ${envName}` : file ? `file ${file}` : 'defaults';
    throw new ConfigError(`invalid controller config: key "${key}" (${source}): ${issue.message}`);
  }
  const publicUrl = (parsed.data.publicUrl ?? defaultPublicUrl(parsed.data.apiListen)).replace(/\/+$/, '');
  return Object.freeze({ ...parsed.data, publicUrl });
}

/** http:// and the API listen address; a wildcard address becomes this machine's host name. */
export function defaultPublicUrl(apiListen: string): string {
  const { host, port } = splitHostPort(apiListen);
  const name = host === '0.0.0.0' || host === '::' || host === '' ? hostname() : host;
  return `http://${name.includes(':') ? `[${name}]` : name}:${port}`;
}

function readJsonFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new ConfigError(`cannot read config file ${file}: ${(cause as Error).message}`, { cause });
  }
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new Error('the top level must be a JSON object');
    }
    return value as Record<string, unknown>;
  } catch (cause) {
    throw new ConfigError(`config file ${file} is not valid JSON: ${(cause as Error).message}`, { cause });
  }
}

export function splitHostPort(value: string): { host: string; port: number } {
  const at = value.lastIndexOf(':');
  return { host: value.slice(0, at).replace(/^\[(.*)\]$/, '$1') || '0.0.0.0', port: Number(value.slice(at + 1)) };
}
