// A job answer the controller could not record (Postgres raised an error: a deadlock, too many clients) is
// sent again by the agent until it is recorded, instead of leaving the job `sent` until the agent
// reconnects or the stage times out; an answer refused as final (no such open job) is not sent again.
// A real controller and agent process on a real Postgres: a trigger the test puts on agent_jobs makes the
// database refuse what the test wants refused.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteStreamsWithPrefix, testNatsUrl, uniquePrefix } from '../support/nats.js';
import { createTestDatabase } from '../support/postgres.js';
import {
  createEnrollmentToken, eventually, onlineAgentId, startAgent, startController, type AgentProcess, type ControllerProcess,
} from '../support/processes.js';

/** How many makeCsr answers the database refuses before it records one. */
const REFUSED_ANSWERS = 2;

const prefix = uniquePrefix();
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let sql: pg.Client;
let controller: ControllerProcess;
let agent: AgentProcess;
let agentId: string;
let scanDir: string;

interface JobView {
  state: string;
  error: string | null;
  sentAt: string | null;
  finishedAt: string | null;
  result: { csr?: { csrPem: string } } | null;
}

beforeAll(async () => {
  db = await createTestDatabase();
  scanDir = await mkdtemp(join(tmpdir(), 'certflow-answer-retry-'));
  controller = await startController({ databaseUrl: db.url, natsPrefix: prefix });
  // The controller has migrated the database by now: agent_jobs exists.
  sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  await sql.query(`
    -- A sequence, not a counter row: nextval is not undone by the rollback the raised error causes.
    create sequence test_refused_answers;
    create function test_refuse_job_answers() returns trigger language plpgsql as $$
    begin
      -- The first makeCsr answers fail to record with a real Postgres error, as under load.
      if new.kind = 'makeCsr' and new.state = 'succeeded' and nextval('test_refused_answers') <= ${REFUSED_ANSWERS} then
        raise exception 'deadlock detected (raised by the test)' using errcode = '40P01';
      end if;
      -- A rescan's answer updates no row, exactly what the controller sees when the job is no longer
      -- open (timed out, answered already): it refuses the answer as final.
      if new.kind = 'rescan' and new.state in ('succeeded', 'failed') then
        return null;
      end if;
      return new;
    end $$;
    create trigger test_refuse_job_answers before update on agent_jobs for each row execute function test_refuse_job_answers();
    -- Armed by the last test: the next hello (the only update of agents that sets identity_certificate_pem) fails once.
    create sequence test_refused_hellos;
    create table test_hello_armed (armed boolean not null);
    insert into test_hello_armed values (false);
    create function test_refuse_hello() returns trigger language plpgsql as $$
    begin
      if (select armed from test_hello_armed) and current_query() like '%identity_certificate_pem%' and nextval('test_refused_hellos') <= 1 then
        raise exception 'deadlock detected (raised by the test)' using errcode = '40P01';
      end if;
      return new;
    end $$;
    create trigger test_refuse_hello before update on agents for each row execute function test_refuse_hello();
  `);
  agent = await startAgent({
    controller: controller.grpcAddress, enrollment: await createEnrollmentToken(controller), scanPaths: [scanDir],
    extraConfig: { discovery: { endpoints: { enabled: false }, configs: { enabled: false }, watch: false } },
  });
  agentId = await onlineAgentId(controller);
}, 60_000);

afterAll(async () => {
  await agent?.kill();
  await controller?.stop();
  await sql?.end();
  await db?.drop();
  await deleteStreamsWithPrefix(testNatsUrl(), prefix);
  if (scanDir) await rm(scanDir, { recursive: true, force: true });
});

async function requestJob(path: string, body: object = {}): Promise<string> {
  const response = await controller.api(`/api/v1/agents/${agentId}/${path}`, { method: 'POST', body: JSON.stringify(body) });
  expect(response.status, await response.clone().text()).toBe(202);
  return ((await response.json()) as { jobId: string }).jobId;
}

const job = async (jobId: string) => (await (await controller.api(`/api/v1/agent-jobs/${jobId}`)).json()) as JobView;

/** The agent's log lines about one job, as parsed JSON. */
const agentLines = (jobId: string) => agent.output().split('\n').filter((line) => line.startsWith('{') && line.includes(jobId))
  .map((line) => JSON.parse(line) as { msg: string; resend?: number; error?: string });

describe('a job answer the controller could not record', () => {
  it('is sent again with backoff until recorded: the job succeeds within seconds', async () => {
    const started = Date.now();
    const jobId = await requestJob('csr', { dnsNames: ['retry.example'], keyType: 'ecdsa-p256' });
    const done = await eventually(async () => {
      const view = await job(jobId);
      return view.state === 'succeeded' || view.state === 'failed' ? view : null;
    }, 20_000, `job ${jobId} to finish`);
    expect(done, JSON.stringify(done)).toMatchObject({ state: 'succeeded', error: null });
    expect(done.result?.csr?.csrPem).toMatch(/BEGIN CERTIFICATE REQUEST/);
    // Two resends of about 1 and 2 s at most, far under the agent-job timeout (30 minutes).
    expect(Date.now() - started).toBeLessThan(15_000);

    const lines = agentLines(jobId);
    const refused = lines.filter((l) => l.msg === 'controller could not record the job answer; sending it again later');
    expect(refused.map((l) => l.resend)).toEqual([1, 2]);
    expect(refused[0].error).toBe('controller error; retry later');
    expect(lines.filter((l) => l.msg === 'job answer sent again').map((l) => l.resend)).toEqual([1, 2]);
    expect(controller.output()).toMatch(/"msg":"agent message failed"/);
    expect(controller.output()).toMatch(/deadlock detected \(raised by the test\)/);
  }, 30_000);

  it('is not sent again when the controller refuses it as final (no such open job)', async () => {
    const jobId = await requestJob('rescan');
    await agent.waitForOutput(new RegExp(`"jobId":"${jobId}".*"msg":"controller refused the job answer; it is not sent again"`), 20_000);
    expect(agentLines(jobId).find((l) => l.msg === 'controller refused the job answer; it is not sent again')?.error)
      .toBe('no such open job for this agent');
    // Longer than any first resend (at most 1 s): nothing more is sent, and the job was never recorded.
    await new Promise((r) => setTimeout(r, 2500));
    expect(agentLines(jobId).filter((l) => /sent again|sending it again/.test(l.msg) && !l.msg.includes('not sent again'))).toEqual([]);
    expect((await job(jobId)).state).toBe('sent');
  }, 30_000);

  it('a hello the controller could not handle ends the session, and the agent reconnects and is welcomed', async () => {
    await sql.query('update test_hello_armed set armed = true');
    agent = await agent.restart();
    await controller.waitForOutput(/"msg":"agent session closed".*the hello could not be handled|the hello could not be handled/, 20_000);
    // The agent's first session got no welcome; its next one does.
    await agent.waitForOutput(/"msg":"reconnecting"/, 20_000);
    await agent.waitForOutput(/"msg":"connected to controller"/, 30_000);
    // Two hellos reached the database: the refused one and the welcomed one.
    expect((await sql.query<{ n: string }>('select last_value as n from test_refused_hellos')).rows[0]!.n).toBe('2');
  }, 60_000);
});
