// A real agent process against a real controller process: enrolment from its config, check-ins, the
// inventory it reports, and what survives restarts of either side.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { connect } from 'nats';
import { createTestDatabase } from '../support/postgres.js';
import { deleteStreamsWithPrefix, testNatsUrl, uniquePrefix } from '../support/nats.js';
import { createEnrollmentToken, eventually, restartController, startAgent, startController, type AgentProcess, type ControllerProcess } from '../support/processes.js';
import { days, makeCertificate } from '../support/certificates.js';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let controller: ControllerProcess;
let agent: AgentProcess;
let sql: pg.Client;
let certDir: string;
let agentId: string;
const prefix = uniquePrefix();

const query = async (text: string, values: unknown[] = []) => (await sql.query(text, values)).rows;

beforeAll(async () => {
  db = await createTestDatabase();
  sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  certDir = await mkdtemp(join(tmpdir(), 'certflow-inv-'));
  const ca = await makeCertificate({ commonName: 'Test Root', isCa: true, notAfter: days(3650) });
  const soon = await makeCertificate({ commonName: 'soon.example.test', dnsNames: ['soon.example.test'], notAfter: days(10), issuer: ca });
  const later = await makeCertificate({ commonName: 'later.example.test', dnsNames: ['later.example.test', 'www.later.example.test'], notAfter: days(200), issuer: ca });
  await writeFile(join(certDir, 'bundle.pem'), soon.pem + 'text between blocks\r\n' + ca.pem);
  await writeFile(join(certDir, 'later.der'), later.der);
  controller = await startController({ databaseUrl: db.url, natsPrefix: prefix });
  // Files only: this machine's own listening sockets and server configs are not part of this test.
  agent = await startAgent({
    controller: controller.grpcAddress, enrollment: await createEnrollmentToken(controller), scanPaths: [certDir],
    extraConfig: { discovery: { endpoints: { enabled: false }, configs: { enabled: false }, watch: false } },
  });
  await agent.waitForOutput(/"msg":"inventory sent"/);
  agentId = (await eventually(async () => (await query('select id from agents where last_inventory_at is not null'))[0], 20_000, 'inventory'))!.id;
});

afterAll(async () => {
  await agent?.stop();
  await controller?.stop();
  await sql?.end();
  await db?.drop();
  await deleteStreamsWithPrefix(testNatsUrl(), prefix);
  if (certDir) await rm(certDir, { recursive: true, force: true });
});

async function locationRows() {
  return query('select l.path, l.position, l.first_seen_at, l.removed_at, c.subject from certificate_locations l join certificates c on c.id = l.certificate_id order by l.path, l.position');
}

describe('an enrolled agent', () => {
  it('keeps its identity key readable by its owner only', async () => {
    const { stat } = await import('node:fs/promises');
    expect((await stat(join(agent.stateDir, 'identity', 'key.pem'))).mode & 0o777).toBe(0o600);
  });

  it('reports every certificate of its scan paths with where it was found', async () => {
    const rows = await locationRows();
    expect(rows.map((r) => [r.path.replace(certDir, ''), r.position, r.subject])).toEqual([
      ['/bundle.pem', 0, 'CN=soon.example.test'],
      ['/bundle.pem', 1, 'CN=Test Root'],
      ['/later.der', 0, 'CN=later.example.test'],
    ]);
  });

  it('shows its certificates through the admin API, filtered by expiry', async () => {
    const response = await controller.api('/api/v1/certificates?expiringWithinDays=30');
    expect(response.status).toBe(200);
    const body = (await response.json()) as { items: { subject: string }[]; total: number };
    expect(body.items.map((c) => c.subject)).toEqual(['CN=soon.example.test']);
  });

  it('checks in and moves its last check-in forward', async () => {
    const first = (await query('select last_check_in_at from agents where id = $1', [agentId]))[0].last_check_in_at;
    await eventually(async () => {
      const next = (await query('select last_check_in_at from agents where id = $1', [agentId]))[0].last_check_in_at;
      return next && (!first || new Date(next) > new Date(first));
    }, 10_000, 'a newer check-in');
  });

  it('re-reports after an agent restart without duplicating certificates or locations', async () => {
    const before = await locationRows();
    agent = await agent.restart();
    await agent.waitForOutput(/"msg":"inventory sent"/);
    await eventually(async () => (await query('select last_inventory_at from agents where id = $1', [agentId]))[0].last_inventory_at > before[0].first_seen_at, 10_000, 'a new report');
    const after = await locationRows();
    expect(after.map((r) => [r.path, r.position, r.first_seen_at.toISOString()])).toEqual(before.map((r) => [r.path, r.position, r.first_seen_at.toISOString()]));
    expect(Number((await query('select count(*) from certificates'))[0].count)).toBe(3);
    expect(Number((await query('select count(*) from agents'))[0].count)).toBe(1);
  });

  it('marks a location removed when its file disappears, on a rescan job', async () => {
    await rm(join(certDir, 'later.der'));
    await query("insert into agent_jobs (id, agent_id, kind, payload, state, requested_by, created_at) values (gen_random_uuid(), $1, 'rescan', '{}', 'pending', 'test', now())", [agentId]);
    const nc = await connect({ servers: testNatsUrl() });
    nc.publish(`${prefix}.agent.${agentId}.wake`);
    await nc.drain();
    await eventually(async () => (await query("select 1 from agent_jobs where state = 'succeeded'")).length === 1, 15_000, 'the job to succeed');
    const rows = await eventually(async () => {
      const r = await locationRows();
      return r.find((row) => row.path.endsWith('later.der'))?.removed_at ? r : null;
    }, 10_000, 'the removal');
    expect(rows.filter((r) => r.removed_at === null).map((r) => r.subject)).toEqual(['CN=soon.example.test', 'CN=Test Root']);
  });

  it('reconnects by itself when the controller restarts', async () => {
    const sessionsBefore = agent.output().match(/connected to controller/g)?.length ?? 0;
    controller = await restartController(controller);
    await eventually(async () => (agent.output().match(/connected to controller/g)?.length ?? 0) > sessionsBefore, 45_000, 'the agent to reconnect');
    const response = await controller.api(`/api/v1/agents/${agentId}`);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { online: boolean }).online).toBe(true);
  });
});
