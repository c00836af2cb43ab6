// One key shared by several hosts (template key.multiHost "shared"), with a real controller and two real
// agents on this host (separate state dirs, file targets): the key is made on one agent, sealed to the
// other agent's identity key, and both deploy the same key and certificate; the key never reaches Postgres
// or NATS in plain form; an agent whose config forbids export fails the run saying so; a sealed key
// changed on the way is refused by the recipient.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { sql } from '../support/reliability.js';
import { createTestDatabase } from '../support/postgres.js';
import { deleteStreamsWithPrefix, testNatsUrl, uniquePrefix } from '../support/nats.js';
import { createEnrollmentToken, eventually, startAgent, startController, type AgentProcess, type ControllerProcess } from '../support/processes.js';
import { apiJson, createTemplate, FAST_WORKFLOW_ENV, waitForRun } from '../support/workflow.js';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let controller: ControllerProcess;
let nc: NatsConnection;
const payloads: string[] = [];
const prefix = uniquePrefix();
/** exporter: keys.allowExport true; keeper: the default (false). */
const hosts = {} as Record<'exporter' | 'keeper', { agent: AgentProcess; id: string; dir: string }>;

const QUIET = { discovery: { endpoints: { enabled: false }, configs: { enabled: false }, watch: false } };

async function agentIdOf(agent: AgentProcess): Promise<string> {
  return eventually(async () => {
    try {
      return (JSON.parse(await readFile(join(agent.stateDir, 'identity', 'agent.json'), 'utf8')) as { agentId: string }).agentId;
    } catch {
      return null;
    }
  }, 30_000, 'the agent to enrol');
}

beforeAll(async () => {
  db = await createTestDatabase();
  // Everything published on this NATS server while the test runs, to look for key material afterwards.
  nc = await connect({ servers: testNatsUrl() });
  const all = nc.subscribe('>');
  void (async () => {
    for await (const m of all) payloads.push(Buffer.from(m.data).toString('latin1'));
  })();
  controller = await startController({ databaseUrl: db.url, natsPrefix: prefix, env: FAST_WORKFLOW_ENV });
  for (const [name, allowExport] of [['exporter', true], ['keeper', false]] as const) {
    const dir = await mkdtemp(join(tmpdir(), `certflow-shared-${name}-`));
    const agent = await startAgent({
      controller: controller.grpcAddress, enrollment: await createEnrollmentToken(controller), scanPaths: [dir],
      extraConfig: { ...QUIET, deploy: { allowedPaths: [dir] }, keys: { allowExport } },
    });
    hosts[name] = { agent, id: await agentIdOf(agent), dir };
  }
  await eventually(async () => {
    const { items } = (await (await controller.api('/api/v1/agents')).json()) as { items: { id: string; online: boolean }[] };
    return items.filter((a) => a.online).length === 2;
  }, 30_000, 'both agents online');
}, 90_000);

afterAll(async () => {
  for (const h of Object.values(hosts)) await h.agent.stop();
  await controller?.stop();
  await nc?.drain();
  await db?.drop();
  await deleteStreamsWithPrefix(testNatsUrl(), prefix);
  for (const h of Object.values(hosts)) await rm(h.dir, { recursive: true, force: true });
});

const fileTarget = (host: 'exporter' | 'keeper', name: string) => ({
  agentId: hosts[host].id, kind: 'file',
  options: { certificatePath: join(hosts[host].dir, `${name}.pem`), chainPath: join(hosts[host].dir, `${name}.chain.pem`), keyPath: join(hosts[host].dir, `${name}.key`) },
});

const spkiSha256 = (pem: string) => createHash('sha256').update(createPublicKey(pem).export({ type: 'spki', format: 'der' })).digest('hex');

describe('a key shared by several hosts', () => {
  it('deploys the same key and certificate to both hosts; the key was made on the first target\'s host and stored 0600 on the other', async () => {
    await createTemplate(controller, 'shared', { key: { multiHost: 'shared' } });
    const managed = await apiJson<{ id: string }>(controller, '/api/v1/managed-certificates', {
      method: 'POST', body: JSON.stringify({ template: 'shared', dnsNames: ['shared.example'], targets: [fileTarget('exporter', 'web'), fileTarget('keeper', 'web')] }),
    }, 201);
    const run = await waitForRun(controller, managed.id, ['succeeded', 'failed', 'rolled-back'], 90_000);
    expect(run.error).toBeNull();
    expect(run.state).toBe('succeeded');

    const [certA, certB, keyA, keyB] = await Promise.all([
      readFile(join(hosts.exporter.dir, 'web.pem'), 'utf8'), readFile(join(hosts.keeper.dir, 'web.pem'), 'utf8'),
      readFile(join(hosts.exporter.dir, 'web.key'), 'utf8'), readFile(join(hosts.keeper.dir, 'web.key'), 'utf8'),
    ]);
    expect(certB).toBe(certA);
    expect(spkiSha256(keyB)).toBe(spkiSha256(keyA));
    expect(spkiSha256(keyA)).toBe(spkiSha256(new X509Certificate(certA).publicKey.export({ type: 'spki', format: 'pem' }) as string));
    // One certificate issued, one CSR job, one export job.
    const jobs = await sql<{ kind: string; agent_id: string }>(db.url, "select kind, agent_id from agent_jobs where kind in ('makeCsr', 'exportKey')");
    expect(jobs).toEqual(expect.arrayContaining([{ kind: 'makeCsr', agent_id: hosts.exporter.id }, { kind: 'exportKey', agent_id: hosts.exporter.id }]));
    expect(jobs).toHaveLength(2);
    // The keeper's key store holds the key it received, readable by its owner only.
    const stored = (await readdir(join(hosts.keeper.agent.stateDir, 'keys'))).filter((f) => f.endsWith('.pem'));
    expect(stored).toHaveLength(1);
    const storedPath = join(hosts.keeper.agent.stateDir, 'keys', stored[0]!);
    expect((await stat(storedPath)).mode & 0o777).toBe(0o600);
    expect(spkiSha256(await readFile(storedPath, 'utf8'))).toBe(spkiSha256(keyA));
  }, 120_000);

  it('never lets the shared key reach Postgres or NATS in plain form', async () => {
    const keyPem = await readFile(join(hosts.exporter.dir, 'web.key'), 'utf8');
    const pemBody = keyPem.split('\n').filter((l) => l && !l.startsWith('-----')).join('');
    const der = createPrivateKey(keyPem).export({ type: 'pkcs8', format: 'der' });
    const raw = createPrivateKey(keyPem).export({ format: 'jwk' }).d!; // the private scalar, base64url
    const needles = [pemBody.slice(0, 60), pemBody.slice(-60), der.toString('base64').slice(0, 60), der.toString('hex').slice(0, 64), raw,
      Buffer.from(raw, 'base64url').toString('hex'), Buffer.from(raw, 'base64url').toString('base64')];
    const tables = (await sql<{ tablename: string }>(db.url, "select tablename from pg_tables where schemaname = 'public'")).map((r) => r.tablename);
    expect(tables).toEqual(expect.arrayContaining(['agent_jobs', 'workflow_runs', 'outbox']));
    for (const table of tables) {
      const [{ dump }] = await sql<{ dump: string }>(db.url, `select coalesce(string_agg(row_to_json(t)::text, E'\\n'), '') as dump from "${table}" t`);
      expect(dump, table).not.toMatch(/PRIVATE KEY/);
      for (const needle of needles) expect(dump.includes(needle), `${table} holds key material`).toBe(false);
    }
    // The sealed copy is there, as ciphertext.
    const [exported] = await sql<{ result: { exportKey: { blobs: { ciphertext: string }[] } } }>(db.url, "select result from agent_jobs where kind = 'exportKey'");
    expect(exported!.result.exportKey.blobs).toHaveLength(1);
    const published = payloads.join('\n');
    expect(published).not.toMatch(/PRIVATE KEY/);
    for (const needle of needles) expect(published.includes(needle)).toBe(false);
  });

  it('refuses a sealed key changed on the way: the recipient deploys nothing', async () => {
    const [exported] = await sql<{ result: { exportKey: { blobs: Record<string, string>[] } } }>(db.url, "select result from agent_jobs where kind = 'exportKey'");
    const blob = { ...exported!.result.exportKey.blobs[0]! };
    const bytes = Buffer.from(blob.ciphertext!, 'base64');
    bytes[10] ^= 0x01;
    blob.ciphertext = bytes.toString('base64');
    const certificatePem = await readFile(join(hosts.exporter.dir, 'web.pem'), 'utf8');
    const target = fileTarget('keeper', 'tampered');
    const { jobId } = await apiJson<{ jobId: string }>(controller, `/api/v1/agents/${hosts.keeper.id}/deploy`, {
      method: 'POST', body: JSON.stringify({ keyId: blob.keyId, certificatePem, targets: [{ kind: 'file', options: target.options }], endpoints: [], encryptedKey: blob }),
    }, 202);
    const job = await eventually(async () => {
      const j = await apiJson<{ state: string; error: string | null }>(controller, `/api/v1/agent-jobs/${jobId}`);
      return j.state === 'failed' || j.state === 'succeeded' ? j : null;
    }, 30_000, 'the deploy job');
    expect(job.state).toBe('failed');
    expect(job.error).toMatch(/shared key refused: .*integrity/);
    await expect(stat(join(hosts.keeper.dir, 'tampered.pem'))).rejects.toThrow();
  }, 60_000);

  it('fails the run with the agent\'s reason when the key\'s host does not allow export', async () => {
    // The keeper is named as the key's host; its config keeps keys.allowExport false.
    await createTemplate(controller, 'shared-from-keeper', { key: { multiHost: 'shared', sharedKeyAgent: hosts.keeper.id } });
    const managed = await apiJson<{ id: string }>(controller, '/api/v1/managed-certificates', {
      method: 'POST', body: JSON.stringify({ template: 'shared-from-keeper', dnsNames: ['kept.example'], targets: [fileTarget('exporter', 'kept'), fileTarget('keeper', 'kept')] }),
    }, 201);
    const run = await waitForRun(controller, managed.id, ['succeeded', 'failed', 'rolled-back'], 90_000);
    expect(run.state).toBe('failed');
    expect(run.error).toMatch(new RegExp(`agent ${hosts.keeper.id} did not share the key: .*keys\\.allowExport false`));
    expect(run.stages.find((s) => s.stage === 'deploy')).toBeUndefined();
    await expect(stat(join(hosts.exporter.dir, 'kept.pem'))).rejects.toThrow();
  }, 120_000);
});
