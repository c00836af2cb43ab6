// Keys are made on the host: the controller asks an agent for a CSR, the agent keeps the key (0600) in its
// key store, and no private key material ever reaches Postgres or NATS.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { connect, type NatsConnection } from 'nats';
import { createTestDatabase } from '../support/postgres.js';
import { deleteStreamsWithPrefix, testNatsUrl, uniquePrefix } from '../support/nats.js';
import { createEnrollmentToken, eventually, startAgent, startController, type AgentProcess, type ControllerProcess, onlineAgentId } from '../support/processes.js';
import { x509 } from '../../proto/shared/x509.js';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let controller: ControllerProcess;
let agent: AgentProcess;
let agentId: string;
let nc: NatsConnection;
let scanDir: string;
const payloads: string[] = [];
const prefix = uniquePrefix();

beforeAll(async () => {
  db = await createTestDatabase();
  scanDir = await mkdtemp(join(tmpdir(), 'certflow-keys-'));
  // Everything published on this NATS server while the test runs, to look for key material afterwards.
  nc = await connect({ servers: testNatsUrl() });
  const all = nc.subscribe('>');
  void (async () => {
    for await (const m of all) payloads.push(Buffer.from(m.data).toString('latin1'));
  })();
  controller = await startController({ databaseUrl: db.url, natsPrefix: prefix });
  agent = await startAgent({
    controller: controller.grpcAddress, enrollment: await createEnrollmentToken(controller), scanPaths: [scanDir],
    extraConfig: { discovery: { endpoints: { enabled: false }, configs: { enabled: false }, watch: false } },
  });
  agentId = await onlineAgentId(controller, 20_000);
});

afterAll(async () => {
  await agent?.stop();
  await controller?.stop();
  await nc?.drain();
  await db?.drop();
  await deleteStreamsWithPrefix(testNatsUrl(), prefix);
  if (scanDir) await rm(scanDir, { recursive: true, force: true });
});

async function requestCsr(body: object): Promise<{ status: number; job: { state: string; error: string | null; result: { csr: { keyId: string; csrPem: string; publicKeySha256: string } } | null } }> {
  const response = await controller.api(`/api/v1/agents/${agentId}/csr`, { method: 'POST', body: JSON.stringify(body) });
  if (response.status !== 202) return { status: response.status, job: null as never };
  const { jobId } = (await response.json()) as { jobId: string };
  const job = await eventually(async () => {
    const j = (await (await controller.api(`/api/v1/agent-jobs/${jobId}`)).json()) as { state: string };
    return j.state === 'succeeded' || j.state === 'failed' ? j : null;
  }, 30_000, 'the CSR job to finish');
  return { status: 202, job: job as never };
}

describe('keys made on the host', () => {
  for (const keyType of ['ecdsa-p256', 'rsa-2048'] as const) {
    it(`returns a ${keyType} CSR for the requested names and keeps the key on the host, readable by its owner only`, async () => {
      const { job } = await requestCsr({ keyType, commonName: 'shop.example', dnsNames: ['shop.example', 'www.shop.example'], ipAddresses: ['192.0.2.10'] });
      expect(job).toMatchObject({ state: 'succeeded', error: null });
      const { keyId, csrPem, publicKeySha256 } = job.result!.csr;
      const csr = new x509.Pkcs10CertificateRequest(csrPem);
      expect(await csr.verify()).toBe(true);
      expect(csr.subject).toBe('CN=shop.example');
      const sanRaw = csr.extensions.find((e) => e.type === '2.5.29.17')!;
      const san = new x509.SubjectAlternativeNameExtension(sanRaw.rawData);
      expect(san.names.items.map((n) => `${n.type}:${n.value}`)).toEqual(['dns:shop.example', 'dns:www.shop.example', 'ip:192.0.2.10']);

      const keyFile = join(agent.stateDir, 'keys', `${keyId}.pem`);
      expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
      const spki = createPublicKey(createPrivateKey(await readFile(keyFile))).export({ type: 'spki', format: 'der' });
      expect(createHash('sha256').update(spki).digest('hex')).toBe(publicKeySha256);
      expect(createHash('sha256').update(Buffer.from(csr.publicKey.rawData)).digest('hex')).toBe(publicKeySha256);
    });
  }

  it('refuses an unknown key type or a request without names, before any job is made', async () => {
    expect((await requestCsr({ keyType: 'dsa-1024', commonName: 'x.example' })).status).toBe(400);
    expect((await requestCsr({ keyType: 'ecdsa-p256' })).status).toBe(400);
    expect((await requestCsr({ dnsNames: ['not a name'] })).status).toBe(400);
  });

  it('fails the job, keeping the first key, when a key id is reused', async () => {
    const first = await requestCsr({ keyId: 'web-2026', dnsNames: ['a.example'] });
    expect(first.job.state).toBe('succeeded');
    const before = await readFile(join(agent.stateDir, 'keys', 'web-2026.pem'), 'utf8');
    const second = await requestCsr({ keyId: 'web-2026', dnsNames: ['b.example'] });
    expect(second.job).toMatchObject({ state: 'failed', error: expect.stringMatching(/already exists/) });
    expect(await readFile(join(agent.stateDir, 'keys', 'web-2026.pem'), 'utf8')).toBe(before);
  });

  it('gives the CSR to certflowctl agents csr, which waits for the agent', async () => {
    const { runTsx } = await import('../support/processes.js');
    const cli = runTsx('controller/src/cli/main.ts', ['agents', 'csr', agentId, '--dns', 'cli.example', '--key-type', 'ecdsa-p384',
      '--url', controller.apiUrl, '--token', controller.adminToken], {});
    expect(await cli.exited).toBe(0);
    const pem = /-----BEGIN CERTIFICATE REQUEST-----[\s\S]+?-----END CERTIFICATE REQUEST-----/.exec(cli.output())![0];
    expect(await new x509.Pkcs10CertificateRequest(pem).verify()).toBe(true);
    expect(cli.output()).toMatch(/^key k-[0-9a-f]{16} made on the agent/m);
  });

  it('never lets private key material reach Postgres or NATS', async () => {
    const keyDir = join(agent.stateDir, 'keys');
    const { readdir } = await import('node:fs/promises');
    const keyBodies = await Promise.all((await readdir(keyDir)).map(async (f) =>
      (await readFile(join(keyDir, f), 'utf8')).split('\n').filter((l) => l && !l.startsWith('-----')).join('')));
    expect(keyBodies.length).toBeGreaterThanOrEqual(3);
    const sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
    try {
      const tables = (await sql.query("select tablename from pg_tables where schemaname = 'public'")).rows.map((r) => r.tablename as string);
      for (const table of tables) {
        const text = (await sql.query(`select coalesce(string_agg(row_to_json(t)::text, E'\\n'), '') as dump from "${table}" t`)).rows[0].dump as string;
        expect(text, table).not.toMatch(/PRIVATE KEY/);
        for (const body of keyBodies) expect(text.includes(body.slice(0, 60)), `${table} holds key material`).toBe(false);
      }
    } finally {
      await sql.end();
    }
    const published = payloads.join('\n');
    expect(published).not.toMatch(/PRIVATE KEY/);
    for (const body of keyBodies) expect(published.includes(body.slice(0, 60))).toBe(false);
  });
});
