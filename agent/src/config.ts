// The agent's configuration: a JSON file (default /etc/certflow/agent.json, or --config FILE), with
// environment variables on top. This is the only agent module that reads process.env. An error names the
// key and the file it came from.
import { readFileSync } from 'node:fs';
import { z } from 'zod';

export class AgentConfigError extends Error {
  override name = 'AgentConfigError';
}

export const DEFAULT_CONFIG_FILE = '/etc/certflow/agent.json';

/** Well-known plain-text services (SSH, SMTP, DNS, databases, brokers) that a TLS hello would only litter. */
export const DEFAULT_EXCLUDED_PORTS: readonly number[] = Object.freeze([22, 25, 53, 3306, 4222, 5432, 5672, 6379, 1883, 11211]);

const agentConfigSchema = z.strictObject({
  /** The controller's agent gateway, HOST:PORT. */
  controller: z.string().regex(/^([^\s:[\]]+|\[[0-9a-fA-F:.]+\]):\d{1,5}$/, 'expected HOST:PORT (IPv6 as [ADDRESS]:PORT)'),
  /** Where the agent keeps its identity (key 0600, certificates). */
  stateDir: z.string().min(1).default('/var/lib/certflow-agent'),
  enrollment: z.strictObject({
    /** Single-use token from `certflowctl tokens create`; only needed until the agent has enrolled. */
    token: z.string().optional(),
    /** "sha256:<hex>" of the controller's agent CA, printed with the token; pins the gateway at enrolment. */
    caPin: z.string().regex(/^sha256:[0-9a-fA-F]{64}$/, 'expected sha256:<64 hex digits>').optional(),
    /** Or a PEM file of the agent CA, instead of a pin. */
    caFile: z.string().optional(),
  }).default({}),
  /** Name the gateway's certificate is checked against, when `controller` uses another name or address. */
  serverName: z.string().optional(),
  scan: z.strictObject({
    /** Where certificates live on common distributions, web servers and proxies, and where software is deployed. */
    paths: z.array(z.string().min(1)).default([
      '/etc/ssl', '/etc/pki', '/etc/nginx', '/etc/apache2', '/etc/httpd', '/etc/haproxy', '/etc/letsencrypt', '/opt', '/srv',
    ]),
    intervalSeconds: z.number().int().min(5).max(86_400).default(900),
    /** Globs over absolute paths; `*` and `?` within a segment, `**` across (see agent/src/discovery/glob.ts). */
    include: z.array(z.string().min(1)).default([]),
    exclude: z.array(z.string().min(1)).default([]),
    /** Larger files are skipped with a problem: certificates and keystores are a few KiB. */
    maxFileBytes: z.number().int().min(1024).max(1024 * 1024 * 1024).default(10 * 1024 * 1024),
    /**
     * Tried, after an empty password, on PKCS#12 and Java keystores. These are secrets of the host: they are
     * only ever used to open keystores, never reported, logged or sent to the controller.
     */
    keystorePasswords: z.array(z.string()).default(['changeit']),
  }).prefault({}),
  discovery: z.strictObject({
    /** Read nginx, Apache and HAProxy configs to link certificate files to services, names and ports. */
    configs: z.strictObject({
      enabled: z.boolean().default(true),
      /** Main config files; the usual Debian/RHEL locations when not given. */
      nginx: z.array(z.string().min(1)).optional(),
      apache: z.array(z.string().min(1)).optional(),
      haproxy: z.array(z.string().min(1)).optional(),
    }).prefault({}),
    /** Probe this host's listening sockets with TLS handshakes to record what is really served. */
    endpoints: z.strictObject({
      enabled: z.boolean().default(true),
      intervalSeconds: z.number().int().min(5).max(86_400).default(900),
      timeoutMs: z.number().int().min(100).max(60_000).default(5000),
      maxTargets: z.number().int().min(1).max(100_000).default(2000),
      excludePorts: z.array(z.number().int().min(1).max(65_535)).default([...DEFAULT_EXCLUDED_PORTS]),
    }).prefault({}),
    /**
     * Network ranges the controller may assign to this agent (PUT /api/v1/agents/:id/network-scan). Only
     * assigned ranges inside these are ever probed; empty (the default) means no network scanning.
     */
    networkScan: z.strictObject({
      allowedRanges: z.array(z.string().min(1)).default([]),
      maxAddresses: z.number().int().min(1).max(16_777_216).default(65_536),
      ratePerSecond: z.number().min(0.1).max(10_000).default(50),
    }).prefault({}),
    /** Rescan soon after files change under the scan paths (inotify), besides the periodic rescans. */
    watch: z.boolean().default(true),
  }).prefault({}),
  /**
   * What deployments may do on this host. The controller can never widen these: files are written only
   * under allowedPaths (empty: deployment is off), and only the named commands here are ever run.
   */
  deploy: z.strictObject({
    allowedPaths: z.array(z.string().min(1)).default([]),
    /** Named commands deployments may run (reloads), e.g. {"reload-nginx": ["systemctl", "reload", "nginx"]}. */
    commands: z.record(z.string().min(1), z.array(z.string()).min(1)).default({}),
    /** Main service configs a target may name although they are outside allowedPaths (read, never written). */
    serviceConfigFiles: z.array(z.string().min(1)).default([
      '/etc/nginx/nginx.conf', '/etc/apache2/apache2.conf', '/etc/httpd/conf/httpd.conf', '/etc/haproxy/haproxy.cfg',
    ]),
    binaries: z.strictObject({
      nginx: z.string().default('nginx'), apache2: z.string().default('apache2'),
      haproxy: z.string().default('haproxy'), openssl: z.string().default('openssl'),
    }).prefault({}),
    /** The variables Debian's /etc/apache2/envvars sets (Debian's values when unset). */
    apacheEnvironment: z.record(z.string(), z.string()).optional(),
    commandTimeoutMs: z.number().int().min(1000).max(600_000).default(30_000),
    commandOutputBytes: z.number().int().min(1024).max(1024 * 1024).default(16 * 1024),
  }).prefault({}),
  /**
   * ACME http-01 challenges this agent answers for the controller (Http01Challenge jobs). The controller
   * names a port or a webroot; the agent serves only on the ports listed here (empty: port mode off) and
   * writes only under a webroot inside deploy.allowedPaths.
   */
  acme: z.strictObject({
    http01: z.strictObject({
      ports: z.array(z.number().int().min(1).max(65_535)).default([]),
      /** Tokens are served at most this long, whatever the job asks (a controller that never says stop). */
      maxServeSeconds: z.number().int().min(10).max(86_400).default(900),
    }).prefault({}),
  }).prefault({}),
  /** The key store (stateDir/keys). */
  keys: z.strictObject({
    /**
     * Let keys made here leave the host, encrypted to other agents' identity keys, when a template shares
     * one key across several hosts (key.multiHost "shared"). Off by default: a private key leaving the host
     * is a decision of the host's owner too, not of the controller alone.
     */
    allowExport: z.boolean().default(false),
  }).prefault({}),
  /** How often to check in; the controller's Welcome may set it instead. */
  checkInIntervalSeconds: z.number().int().min(1).max(3600).default(30),
  /** Renew the agent's own certificate when less than this fraction of its lifetime is left. */
  renewIdentityAtRemainingFraction: z.number().min(0.05).max(0.9).default(1 / 3),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type AgentConfig = z.infer<typeof agentConfigSchema>;

export function loadAgentConfig(file: string, env: NodeJS.ProcessEnv = process.env): AgentConfig {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (cause) {
    const reason = (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (cause as Error).message;
    throw new AgentConfigError(`cannot load agent config ${file}: ${reason}`, { cause });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new AgentConfigError(`agent config ${file}: the top level must be a JSON object`);
  }
  // Environment overrides, for secrets that should not sit in a file and for containers.
  if (env.CERTFLOW_AGENT_CONTROLLER) raw.controller = env.CERTFLOW_AGENT_CONTROLLER;
  if (env.CERTFLOW_AGENT_STATE_DIR) raw.stateDir = env.CERTFLOW_AGENT_STATE_DIR;
  if (env.CERTFLOW_ENROLL_TOKEN) raw.enrollment = { ...(raw.enrollment as object), token: env.CERTFLOW_ENROLL_TOKEN };
  if (env.CERTFLOW_AGENT_LOG_LEVEL) raw.logLevel = env.CERTFLOW_AGENT_LOG_LEVEL;
  const parsed = agentConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AgentConfigError(`agent config ${file}: key "${issue.path.join('.') || '(root)'}": ${issue.message}`);
  }
  return Object.freeze(parsed.data);
}
