// certflowctl as an operator runs it: a child process talking HTTP to a real admin API on Postgres,
// with its login saved in a temporary config file.
import type { EntityManager } from '@mikro-orm/postgresql';
import type { FastifyInstance } from 'fastify';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiServer } from '../../controller/src/api/server.js';
import { createAdminToken } from '../../controller/src/auth/admin-tokens.js';
import type { ControllerConfig } from '../../controller/src/config.js';
import { Agent, Certificate, CertificateLocation } from '../../controller/src/db/entities/index.js';
import { createOrm, migrate, type Orm } from '../../controller/src/db/orm.js';
import { createLogger } from '../../controller/src/log.js';
import { freePort } from '../support/free-port.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

const DAY = 86_400_000;
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const config = { checkInIntervalSeconds: 30, offlineAfterIntervals: 3, enrollmentTokenDefaultHours: 24 } as ControllerConfig;
const caFingerprint = 'cd'.repeat(32);

let db: TestDatabase;
let orm: Orm;
let app: FastifyInstance;
let baseUrl = '';
let adminToken = '';
let auditorToken = '';
let workDir = '';
let configPath = '';
let soonId = '';

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs certflowctl the way the brief's users do; async, because the API answers from this process. */
function certflowctl(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, HOME: workDir, CERTFLOWCTL_CONFIG: configPath, ...env };
  if (!('CERTFLOW_URL' in env)) delete childEnv.CERTFLOW_URL;
  if (!('CERTFLOW_TOKEN' in env)) delete childEnv.CERTFLOW_TOKEN;
  return new Promise((resolve) => {
    execFile('npx', ['tsx', 'controller/src/cli/main.ts', ...args], { cwd: repoRoot, env: childEnv, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      });
  });
}

function seed(em: EntityManager): void {
  const agent = crypto.randomUUID();
  em.create(Agent, {
    id: agent, name: 'web-cli', certificateSerial: '01', previousCertificateSerial: null,
    certificateNotAfter: new Date(Date.now() + 30 * DAY), enrolledAt: new Date(), enrolledWithTokenId: 'abcdefabcdef',
    lastSeenAt: new Date(), lastCheckInAt: new Date(), lastInventoryAt: null, scanProblems: [], revokedAt: null,
    hostFacts: { hostname: 'web-cli.example.com', osPlatform: 'linux', osDistro: 'Debian GNU/Linux', osRelease: '12',
      kernel: '6.1', arch: 'x64', ipAddresses: ['10.0.0.9'], agentVersion: '0.1.0', cpuCores: 2, memoryBytes: '1024' },
  });
  const addCertificate = (subject: string, days: number, path: string): string => {
    const id = crypto.randomUUID();
    const notAfter = new Date(Date.now() + days * DAY + 3_600_000);
    em.create(Certificate, {
      id, fingerprintSha256: id.replaceAll('-', ''), der: Buffer.from('x'), subject, issuer: 'CN=CLI Test CA',
      serialNumber: '01', sans: [], searchText: subject.toLowerCase(), notBefore: new Date(notAfter.getTime() - 90 * DAY),
      notAfter, keyAlgorithm: 'RSA', keySize: 2048, curve: null, signatureAlgorithm: 'sha256WithRSAEncryption',
      selfSigned: false, isCa: false, firstSeenAt: new Date(), lastSeenAt: new Date(),
    });
    em.create(CertificateLocation, {
      id: crypto.randomUUID(), certificate: id, agent, path, position: 0, format: 'pem',
      firstSeenAt: new Date(), lastSeenAt: new Date(), removedAt: null,
    });
    return id;
  };
  soonId = addCertificate('CN=soon.cli.example', 5, '/etc/ssl/soon.pem');
  addCertificate('CN=later.cli.example', 60, '/etc/ssl/later.pem');
}

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'certflowctl-'));
  configPath = join(workDir, 'config', 'certflowctl.json');
  db = await createTestDatabase();
  orm = await createOrm(db.url);
  await migrate(orm);
  adminToken = (await createAdminToken(orm.em.fork(), { name: 'cli-admin', role: 'admin' })).token;
  auditorToken = (await createAdminToken(orm.em.fork(), { name: 'cli-auditor', role: 'auditor' })).token;
  const em = orm.em.fork();
  seed(em);
  await em.flush();
  app = await createApiServer({
    orm, log: createLogger('silent'), config,
    readiness: () => ({ database: true, nats: true, gateway: true }),
    agentCa: () => ({ certPem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n', fingerprintSha256: caFingerprint }),
  });
  baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await app?.close();
  await orm?.close();
  await db?.drop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

// The tests share the saved login, so they run in order: login first.
describe.sequential('certflowctl', () => {
  it('refuses to log in with a bad token, saying why, and saves nothing', async () => {
    const result = await certflowctl(['login', '--url', baseUrl, '--token', 'cfa_wrong']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('certflowctl: Authentication required: the token is unknown, revoked or expired');
    expect(() => statSync(configPath)).toThrow();
  });

  it('logs in and saves the URL and token readable by the owner only', async () => {
    const result = await certflowctl(['login', '--url', `${baseUrl}/`, '--token', adminToken]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Logged in to ${baseUrl}`);
    expect(statSync(configPath).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(configPath, 'utf8'))).toEqual({ url: baseUrl, token: adminToken });
  });

  it('lists certificates as a table with subjects, dates and days left', async () => {
    const result = await certflowctl(['certs', 'list']);
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+SUBJECT\s+ISSUER\s+NOT AFTER\s+DAYS LEFT\s+LOCATIONS$/);
    expect(lines[1]).toContain('CN=soon.cli.example');
    expect(lines[1]).toMatch(/\d{4}-\d{2}-\d{2}\s+5\s+1$/);
    expect(lines[2]).toContain('CN=later.cli.example');
    // Columns line up: every row's subject starts where the header's does.
    expect(lines[1].indexOf('CN=')).toBe(lines[0].indexOf('SUBJECT'));
    expect(result.stdout).toContain('Showing 1-2 of 2 certificates.');
  });

  it('prints the API JSON with --json', async () => {
    const result = await certflowctl(['certs', 'list', '--json']);
    expect(result.code).toBe(0);
    const page = JSON.parse(result.stdout);
    expect(page).toMatchObject({ total: 2, limit: 50, offset: 0 });
    expect(page.items.map((c: { subject: string }) => c.subject)).toEqual(['CN=soon.cli.example', 'CN=later.cli.example']);
  });

  it('filters with --expiring-within', async () => {
    const result = await certflowctl(['certs', 'list', '--expiring-within', '10']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('CN=soon.cli.example');
    expect(result.stdout).not.toContain('CN=later.cli.example');
  });

  it('shows one certificate with its locations', async () => {
    const result = await certflowctl(['certs', 'show', soonId]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Subject:\s+CN=soon\.cli\.example/);
    expect(result.stdout).toMatch(/web-cli\s+\/etc\/ssl\/soon\.pem\s+0\s+pem\s+-\s+current/);
  });

  it('lists agents with their status', async () => {
    const result = await certflowctl(['agents', 'list']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/web-cli\s+web-cli\.example\.com\s+Debian GNU\/Linux 12\s+0\.1\.0\s+online/);
  });

  it('creates an enrolment token and prints it with the CA pin and an agent config', async () => {
    const result = await certflowctl(['tokens', 'create', '--description', 'cli test', '--expires-in-hours', '2']);
    expect(result.code).toBe(0);
    const token = /^ {2}([0-9a-f]{12}\.[A-Za-z0-9_-]{20,})$/m.exec(result.stdout)?.[1];
    expect(token).toBeDefined();
    expect(result.stdout).toContain(`sha256:${caFingerprint}`);
    expect(result.stdout).toMatch(/Expires:\s+\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/);
    const snippet = JSON.parse(result.stdout.slice(result.stdout.indexOf('{')));
    expect(snippet).toEqual({ controller: '127.0.0.1:7443', enrollment: { token, caPin: `sha256:${caFingerprint}` } });
  });

  it('lets --token and CERTFLOW_TOKEN override the saved token', async () => {
    const denied = await certflowctl(['tokens', 'create', '--token', auditorToken]);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/^certflowctl: Permission denied: role "auditor"/);
    const viaEnv = await certflowctl(['tokens', 'create'], { CERTFLOW_TOKEN: auditorToken });
    expect(viaEnv.code).toBe(1);
    expect(viaEnv.stderr).toContain('Permission denied');
  });

  it('fails with exit 1 and a clear message for a bad token', async () => {
    const result = await certflowctl(['certs', 'list', '--token', 'cfa_wrong']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe('certflowctl: Authentication required: the token is unknown, revoked or expired\n');
  });

  it('names the URL when nothing listens there', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const result = await certflowctl(['agents', 'list', '--url', url]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`cannot connect to ${url}: connection refused`);
  });

  it('exits 2 with the usage for a command line it cannot run', async () => {
    const unknown = await certflowctl(['certs', 'list', '--expiring-within', 'soon']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('--expiring-within expects a whole number');
    expect(unknown.stderr).toContain('usage: certflowctl certs list');
    expect((await certflowctl(['frobnicate'])).code).toBe(2);
  });

  it('passes API validation problems through with exit 1', async () => {
    const result = await certflowctl(['certs', 'list', '--limit', '0']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('certflowctl: Invalid request: query parameter "limit"');
  });
});
