// The workflow with more than one controller and with its dependencies going away, all as real processes:
// - two replicas on one database and one NATS prefix work the same runs, each run by one replica at a time;
// - two replicas started at the same moment over 50 due certificates start exactly one run each;
// - NATS restarted, and Postgres killed and restarted, while runs wait for the agent: the runs resume and end.
// (Kill -9 of the controller at each stage is in workflow-reliability-crash.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, startPrivatePostgres, withDatabase, type PrivatePostgres } from '../support/postgres.js';
import { deleteStreamsWithPrefix, startPrivateNats, testNatsUrl, uniquePrefix, type PrivateNats } from '../support/nats.js';
import { createEnrollmentToken, eventually, makeMasterKeyFile, startAgent, startController, type AgentProcess, type ControllerProcess, onlineAgentId, deployingAgentConfig } from '../support/processes.js';
import { apiJson } from '../support/workflow.js';
import { auditChained, exactlyOnceProblems, overlappingSpans, RELIABILITY_ENV, sql, stageAttemptSpans } from '../support/reliability.js';
import { createOrm, migrate } from '../../controller/src/db/orm.js';
import { declareCertificate } from '../../controller/src/managed/managed-certificates.js';

const ENDED = ['succeeded', 'failed', 'rolled-back', 'rollback-failed', 'rejected', 'cancelled'];

async function declareMany(controller: ControllerProcess, agentId: string, dir: string, names: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const name of names) {
    const target = { agentId, kind: 'file', options: { certificatePath: join(dir, `${name}.pem`), keyPath: join(dir, `${name}.key`) } };
    ids.push((await apiJson<{ id: string }>(controller, '/api/v1/managed-certificates', { method: 'POST', body: JSON.stringify({ name, dnsNames: [`${name}.example`], targets: [target] }) }, 201)).id);
  }
  return ids;
}

async function waitForRunsToEnd(dbUrl: string, managedIds: string[], timeoutMs: number): Promise<void> {
  await eventually(async () => {
    const [row] = await sql<{ n: number }>(dbUrl, `select count(*)::int as n from workflow_runs where managed_certificate_id = any($1::uuid[]) and state = any($2::text[])`, [managedIds, ENDED]);
    return row!.n === managedIds.length;
  }, timeoutMs, `${managedIds.length} runs to end`);
}

const succeededAll = (ids: string[]) => Object.fromEntries(ids.map((id) => [id, 'succeeded']));

describe('two controller replicas on one database and one NATS prefix', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let replicas: ControllerProcess[] = [];
  let agent: AgentProcess | undefined;
  let dir: string;
  const prefix = uniquePrefix();

  beforeAll(async () => {
    db = await createTestDatabase();
    dir = await mkdtemp(join(tmpdir(), 'certflow-replicas-'));
  });
  afterAll(async () => {
    await agent?.stop();
    await Promise.all(replicas.map((r) => r.stop()));
    await db?.drop();
    await deleteStreamsWithPrefix(testNatsUrl(), prefix);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('work ten runs together, each run by one replica at a time, and each run ends once', async () => {
    // A few handlers at a time each, so neither replica can take all the work; debug logs carry the stage attempt spans.
    const env = { ...RELIABILITY_ENV, CERTFLOW_LOG_LEVEL: 'debug', CERTFLOW_WORKFLOW_CONCURRENCY: '4' };
    const first = await startController({ databaseUrl: db.url, natsPrefix: prefix, env });
    replicas = [first, await startController({ databaseUrl: db.url, natsPrefix: prefix, masterKeyFile: first.masterKeyFile, env })];
    // The agent holds its stream on the first replica; jobs the second one creates reach it through NATS wake-ups.
    agent = await startAgent({ controller: first.grpcAddress, enrollment: await createEnrollmentToken(first), scanPaths: [dir], extraConfig: deployingAgentConfig(dir) });
    const agentId = await onlineAgentId(first);

    const ids = await declareMany(first, agentId, dir, Array.from({ length: 10 }, (_, i) => `replica${i}`));
    await waitForRunsToEnd(db.url, ids, 90_000);
    expect(await exactlyOnceProblems(db.url, ids, succeededAll(ids))).toEqual([]);

    const spans = replicas.flatMap((r) => stageAttemptSpans(r.output()));
    const runs = await sql<{ id: string }>(db.url, 'select id from workflow_runs');
    // Every stage of every run shows up (the lines are real), and both replicas worked.
    for (const run of runs) expect(new Set(spans.filter((s) => s.runId === run.id).map((s) => s.stage)).size).toBeGreaterThanOrEqual(9);
    const byReplica = new Map<number, number>();
    for (const span of spans) byReplica.set(span.replica, (byReplica.get(span.replica) ?? 0) + 1);
    expect([...byReplica.keys()].sort()).toEqual(replicas.map((r) => r.child.pid!).sort());
    // Runs moved between the replicas from stage to stage, which is what makes the next check mean something.
    const handedOver = runs.filter((run) => new Set(spans.filter((s) => s.runId === run.id).map((s) => s.replica)).size > 1);
    expect(handedOver.length).toBeGreaterThan(0);
    expect(overlappingSpans(spans)).toEqual([]);

    expect((await apiJson<{ ok: boolean }>(replicas[1]!, '/api/v1/audit/verify')).ok).toBe(true);
  }, 150_000);

  it('a third replica killed in the middle of a stage: the other two finish its work, each run once', async () => {
    // Armed in the middle of every stage, the newcomer dies in the first stage attempt it works; its
    // transaction is lost and its unacknowledged message comes back to a survivor after the ack wait.
    const everyStage = ['discover', 'trigger', 'select-ca', 'approve-issue', 'issue', 'approve-deploy', 'deploy', 'validate', 'notify'];
    const doomed = await startController({
      databaseUrl: db.url, natsPrefix: prefix, masterKeyFile: replicas[0]!.masterKeyFile,
      env: { ...RELIABILITY_ENV, CERTFLOW_FAILPOINTS: everyStage.map((s) => `${s}:after-handler`).join(',') },
    });
    const agentId = await onlineAgentId(replicas[0]!);
    const ids = await declareMany(replicas[0]!, agentId, dir, Array.from({ length: 6 }, (_, i) => `survivor${i}`));
    await doomed.exited;
    expect(doomed.child.signalCode).toBe('SIGKILL');
    expect(doomed.output()).toMatch(/certflow failpoint \S+:after-handler: SIGKILL/);
    await waitForRunsToEnd(db.url, ids, 90_000);
    expect(await exactlyOnceProblems(db.url, ids, succeededAll(ids))).toEqual([]);
    expect(overlappingSpans([...replicas, doomed].flatMap((r) => stageAttemptSpans(r.output())))).toEqual([]);
  }, 120_000);
});

describe('the scheduler with two replicas sweeping at the same moment', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let replicas: ControllerProcess[] = [];
  const prefix = uniquePrefix();

  beforeAll(async () => { db = await createTestDatabase(); });
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    await db?.drop();
    await deleteStreamsWithPrefix(testNatsUrl(), prefix);
  });

  it('starts exactly one run for each of 50 due certificates', async () => {
    // 50 certificates due now, written while no controller runs. Their target is on an agent that does not
    // exist, so each run fails in discover and the certificate backs off: the sweeps that follow must not
    // start a second one either.
    const orm = await createOrm(db.url);
    await orm.connect();
    await migrate(orm);
    const [template] = await orm.em.fork().execute<{ id: string }[]>(`select id from templates where name = 'default'`);
    const nowhere = randomUUID();
    await orm.em.fork().transactional(async (tx) => {
      for (let i = 0; i < 50; i++) {
        await declareCertificate(tx, {
          name: `due${i}`, templateId: template!.id, dnsNames: [`due${i}.example`], adoptedBy: 'test',
          targets: [{ agentId: nowhere, kind: 'file', options: { certificatePath: `/tmp/due${i}.pem` } }],
        }, new Date());
      }
    });
    await orm.close();

    // Both at once, sweeping every 100 ms, 10 starts a sweep: the 50 take several sweeps, split between the two.
    const env = { ...RELIABILITY_ENV, CERTFLOW_SCHEDULER_INTERVAL_SECONDS: '0.1', CERTFLOW_MAX_STARTS_PER_SWEEP: '10' };
    const masterKeyFile = await makeMasterKeyFile();
    replicas = await Promise.all([0, 1].map(() => startController({ databaseUrl: db.url, natsPrefix: prefix, masterKeyFile, env })));
    const ids = (await sql<{ id: string }>(db.url, 'select id from managed_certificates')).map((m) => m.id);
    expect(ids).toHaveLength(50);
    await waitForRunsToEnd(db.url, ids, 60_000);
    // Not a wait for a condition: sweeps go on every 100 ms on both replicas, and this gives a second run
    // (which must never come) a window of a dozen or so sweeps to appear in before counting.
    await new Promise((r) => setTimeout(r, 1500));

    const perCertificate = await sql<{ managed_certificate_id: string; n: number }>(db.url,
      'select managed_certificate_id, count(*)::int as n from workflow_runs group by 1');
    expect(perCertificate).toHaveLength(50);
    expect(perCertificate.filter((c) => c.n !== 1)).toEqual([]);
    await auditChained(db.url);
    const runStarts = await sql<{ n: number }>(db.url, `select count(*)::int as n from audit_events where action = 'run.started'`);
    expect(runStarts[0]!.n).toBe(50);
  }, 120_000);
});

describe('NATS restarted and Postgres killed while runs wait for the agent', () => {
  let pg: PrivatePostgres;
  let nats: PrivateNats;
  let controller: ControllerProcess;
  let agent: AgentProcess | undefined;
  let agentStateDir: string;
  let agentId: string;
  let dir: string;
  let dbUrl: string;

  const startTheAgent = async (enrollment?: { token: string; caPin: string }) => {
    agent = await startAgent({ controller: controller.grpcAddress, enrollment, stateDir: agentStateDir, scanPaths: [dir], extraConfig: deployingAgentConfig(dir) });
  };

  /** Declares certificates with the agent stopped and waits until each run waits in issue for its CSR. */
  async function runsWaitingForTheAgent(names: string[]): Promise<string[]> {
    await agent?.stop();
    agent = undefined;
    const ids = await declareMany(controller, agentId, dir, names);
    await eventually(async () => {
      const [row] = await sql<{ n: number }>(dbUrl, `select count(*)::int as n from workflow_runs r join workflow_stages s on s.run_id = r.id and s.stage = 'issue'
        where r.managed_certificate_id = any($1::uuid[]) and s.state = 'waiting'`, [ids]);
      return row!.n === ids.length;
    }, 30_000, 'the runs to wait for their CSR');
    return ids;
  }

  beforeAll(async () => {
    [pg, nats] = await Promise.all([startPrivatePostgres(), startPrivateNats()]);
    dbUrl = withDatabase(pg.url, 'postgres');
    dir = await mkdtemp(join(tmpdir(), 'certflow-outage-'));
    agentStateDir = await mkdtemp(join(tmpdir(), 'certflow-outage-agent-'));
    controller = await startController({ databaseUrl: dbUrl, natsUrl: nats.url, natsPrefix: uniquePrefix(), env: RELIABILITY_ENV });
    await startTheAgent(await createEnrollmentToken(controller));
    agentId = await onlineAgentId(controller);
  }, 120_000);
  afterAll(async () => {
    await agent?.stop();
    await controller?.stop();
    await Promise.all([pg?.destroy(), nats?.destroy()]);
    for (const d of [dir, agentStateDir]) if (d) await rm(d, { recursive: true, force: true });
  });

  it('NATS restarted: the agent answers while NATS is down, and the runs go on once it is back', async () => {
    const ids = await runsWaitingForTheAgent(['nats1', 'nats2', 'nats3']);
    await nats.stop();
    await eventually(async () => (await fetch(`${controller.apiUrl}/readyz`)).status === 503, 20_000, 'the controller to see NATS gone');
    // The agent reconnects to the controller (gRPC, not NATS) and answers its CSR jobs; the answers wait in the outbox.
    await startTheAgent();
    await eventually(async () => {
      const [row] = await sql<{ n: number }>(dbUrl, `select count(*)::int as n from agent_jobs j join workflow_runs r on r.id = j.run_id
        where r.managed_certificate_id = any($1::uuid[]) and j.kind = 'makeCsr' and j.state = 'succeeded'`, [ids]);
      return row!.n === ids.length;
    }, 30_000, 'the CSR answers while NATS is down');
    await nats.start();
    await waitForRunsToEnd(dbUrl, ids, 60_000);
    expect(await exactlyOnceProblems(dbUrl, ids, succeededAll(ids))).toEqual([]);
  }, 120_000);

  it('Postgres killed and restarted: the controller and the agent reconnect and the runs go on', async () => {
    const ids = await runsWaitingForTheAgent(['pg1', 'pg2', 'pg3']);
    await pg.kill();
    await eventually(async () => (await fetch(`${controller.apiUrl}/readyz`)).status === 503, 20_000, 'the controller to see Postgres gone');
    await startTheAgent();
    await pg.start();
    await waitForRunsToEnd(dbUrl, ids, 90_000);
    expect(await exactlyOnceProblems(dbUrl, ids, succeededAll(ids))).toEqual([]);
    expect((await apiJson<{ ok: boolean }>(controller, '/api/v1/audit/verify')).ok).toBe(true);
  }, 150_000);
});
