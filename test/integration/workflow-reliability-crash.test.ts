// The workflow survives kill -9 of its controller at every stage boundary and in the middle of every
// stage. Each controller life arms one failpoint (controller/src/workflow/failpoints.ts) and gets a new
// certificate to renew; the controller kills itself there, the next life starts on the same database,
// broker, ports and master key with the next failpoint, and picks up whatever the dead one left. Runs
// still in flight are killed at whatever instant they happened to be in. At the end a clean controller
// finishes everything, and every run must have ended exactly once: one terminal state, one terminal audit
// entry and one run-ending event, one certificate signed by the CA, one deploy per deploy id, the files
// on disk holding the certificate the run recorded, and an audit chain that verifies.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase } from '../support/postgres.js';
import { deleteStreamsWithPrefix, testNatsUrl, uniquePrefix } from '../support/nats.js';
import { createEnrollmentToken, eventually, startAgent, startController, type AgentProcess, type ControllerProcess } from '../support/processes.js';
import { makeCertificate } from '../support/certificates.js';
import { apiJson, createTemplate } from '../support/workflow.js';
import { exactlyOnceProblems, relaunch, RELIABILITY_ENV, runEndEventsPerRun, sql, waitForFailpoint } from '../support/reliability.js';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let controller: ControllerProcess;
let agent: AgentProcess;
let agentId: string;
let dir: string;
const prefix = uniquePrefix();

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await mkdtemp(join(tmpdir(), 'certflow-crash-'));
  controller = await startController({ databaseUrl: db.url, natsPrefix: prefix, env: RELIABILITY_ENV });
  agent = await startAgent({
    controller: controller.grpcAddress, enrollment: await createEnrollmentToken(controller), scanPaths: [dir],
    extraConfig: { discovery: { endpoints: { enabled: false }, configs: { enabled: false }, watch: false }, deploy: { allowedPaths: [dir] } },
  });
  agentId = await eventually(async () => ((await (await controller.api('/api/v1/agents')).json()) as { items: { id: string; online: boolean }[] }).items.find((a) => a.online)?.id, 20_000, 'the agent');
  // Two targets one at a time, the second outside allowedPaths: deploy fails after changing the first, and the run rolls back.
  await createTemplate(controller, 'one-by-one', { deploy: { batchSize: 1, canary: 1 } });
}, 60_000);

const outputs: string[] = [];

afterAll(async () => {
  if (process.env.CERTFLOW_TEST_DUMP) {
    for (const output of [...outputs, controller?.output() ?? '']) console.log(output.split('\n').filter((l) => /"level":(40|50)|failpoint/.test(l)).join('\n'), '\n-----');
  }
  await agent?.stop();
  await controller?.stop();
  await db?.drop();
  await deleteStreamsWithPrefix(testNatsUrl(), prefix);
  if (dir) await rm(dir, { recursive: true, force: true });
});

type Kind = 'renews' | 'rolls-back';
interface Life {
  failpoint: string;
  /** The certificate declared in this life: one that renews, or one whose deploy fails and rolls back. */
  kind: Kind;
  /** What the database must show right after the kill, when the instant is a telling one. */
  witness?: string;
}

// Latest stage first: a run left by the previous life has then already passed the next life's failpoint,
// so mostly the certificate declared in a life is the one that reaches it (a run resuming a stage may
// still get there first: that is a kill at the same instant, of another run).
const LIVES: Life[] = [
  {
    failpoint: 'rollback:after-handler:done', kind: 'rolls-back',
    witness: `select count(*)::int as n from agent_jobs j join workflow_stages s on s.run_id = j.run_id and s.stage = 'rollback'
               where j.kind = 'rollback' and j.state = 'succeeded' and s.state <> 'succeeded'`,
  },
  // run.succeeded is committed; the message is not acked and the event not yet published.
  { failpoint: 'notify:after-commit', kind: 'renews' },
  { failpoint: 'notify:after-handler', kind: 'renews' },
  { failpoint: 'validate:after-commit', kind: 'renews' },
  { failpoint: 'validate:before-handler', kind: 'renews' },
  { failpoint: 'deploy:after-commit:done', kind: 'renews' },
  // The agent deployed and answered, the stage did not commit: nothing may be deployed a second time.
  {
    failpoint: 'deploy:after-handler:done', kind: 'renews',
    witness: `select count(*)::int as n from agent_jobs j join workflow_stages s on s.run_id = j.run_id and s.stage = 'deploy'
               where j.kind = 'deploy' and j.state = 'succeeded' and s.state <> 'succeeded'`,
  },
  // The deploy job is committed, the agent not yet woken: it must still get the job, once.
  { failpoint: 'deploy:after-commit:wait', kind: 'renews' },
  { failpoint: 'approve-deploy:after-commit', kind: 'renews' },
  { failpoint: 'approve-deploy:after-handler', kind: 'renews' },
  { failpoint: 'issue:after-commit:done', kind: 'renews' },
  // The CA signed and recorded the certificate (its own transaction), the stage did not commit: the retry
  // must get the same certificate back, not a second one.
  {
    failpoint: 'issue:after-handler:done', kind: 'renews',
    witness: `select count(*)::int as n from issued_certificates c join workflow_stages s
                on s.run_id::text = split_part(c.idempotency_key, ':', 1) and s.stage = 'issue'
               where c.certificate_pem is not null and s.state <> 'succeeded'`,
  },
  // The CSR job is committed, the agent not yet woken: it must still get the job.
  { failpoint: 'issue:after-commit:wait', kind: 'renews' },
  { failpoint: 'approve-issue:after-commit', kind: 'renews' },
  { failpoint: 'approve-issue:before-handler', kind: 'renews' },
  { failpoint: 'select-ca:after-commit', kind: 'renews' },
  { failpoint: 'select-ca:after-handler', kind: 'renews' },
  { failpoint: 'trigger:after-commit', kind: 'renews' },
  { failpoint: 'trigger:after-handler', kind: 'renews' },
  { failpoint: 'discover:after-commit', kind: 'renews' },
  { failpoint: 'discover:before-handler', kind: 'renews' },
];

describe('workflow: controller killed with SIGKILL', () => {
  it('at every stage boundary and mid-stage: every run ends exactly once, nothing is issued or deployed twice, the audit chain verifies', async () => {
    const old = await makeCertificate({ commonName: 'old.example', dnsNames: ['old.example'] });
    const fired: string[] = [];
    for (const [i, life] of LIVES.entries()) {
      outputs.push(controller.output());
      controller = await relaunch(controller, { CERTFLOW_FAILPOINTS: life.failpoint });
      const name = `c${i}`;
      const targets = life.kind === 'renews'
        ? [{ agentId, kind: 'file', options: { certificatePath: join(dir, `${name}.pem`), keyPath: join(dir, `${name}.key`) } }]
        : [{ agentId, kind: 'file', options: { certificatePath: join(dir, `${name}.pem`) } }, { agentId, kind: 'file', options: { certificatePath: `/etc/certflow-test-forbidden/${name}.pem` } }];
      if (life.kind === 'rolls-back') await writeFile(join(dir, `${name}.pem`), old.pem);
      // A run left by an earlier life may reach the failpoint first and kill the controller under this request.
      await controller.api('/api/v1/managed-certificates', {
        method: 'POST', body: JSON.stringify({ name, dnsNames: [`${name}.crash.example`], targets, ...(life.kind === 'rolls-back' ? { template: 'one-by-one' } : {}) }),
      }).catch(() => null);
      await waitForFailpoint(controller, life.failpoint);
      fired.push(life.failpoint);
      if (life.witness) expect((await sql<{ n: number }>(db.url, life.witness))[0]!.n, `after ${life.failpoint}`).toBeGreaterThan(0);
    }
    expect(fired).toEqual(LIVES.map((l) => l.failpoint));
    const declared = (await sql<{ id: string; name: string }>(db.url, 'select id, name from managed_certificates'))
      .map((m) => ({ ...m, kind: LIVES[Number(m.name.slice(1))]!.kind }));
    // Most lives declared their certificate (a life whose controller was killed by an older run first did not).
    expect(declared.length).toBeGreaterThanOrEqual(LIVES.length / 2);

    // A clean controller finishes what the dead ones left.
    outputs.push(controller.output());
    controller = await relaunch(controller, { CERTFLOW_FAILPOINTS: '' });

    const expected = Object.fromEntries(declared.map((d) => [d.id, d.kind === 'renews' ? 'succeeded' : 'rolled-back']));
    await eventually(async () => {
      const [row] = await sql<{ n: number }>(db.url,
        `select count(*)::int as n from workflow_runs where managed_certificate_id = any($1::uuid[]) and state in ('succeeded', 'rolled-back', 'failed', 'rollback-failed')`,
        [declared.map((d) => d.id)]);
      return row!.n === declared.length;
    }, 90_000, 'every run to end');

    expect(await exactlyOnceProblems(db.url, declared.map((d) => d.id), expected)).toEqual([]);

    // One run-ending event per run on the event stream (the relay's message ids drop duplicates).
    const runs = await sql<{ id: string }>(db.url, 'select id from workflow_runs where managed_certificate_id = any($1::uuid[])', [declared.map((d) => d.id)]);
    const events = await eventually(async () => {
      const counts = await runEndEventsPerRun(testNatsUrl(), prefix);
      return runs.every((r) => counts.has(r.id)) ? counts : null;
    }, 20_000, 'a run-ending event per run');
    for (const run of runs) expect(events.get(run.id), `run-ending events of ${run.id}`).toBe(1);

    // What is on disk is what each run recorded; rolled-back targets hold the old certificate again.
    for (const d of declared) {
      const pem = await readFile(join(dir, `${d.name}.pem`), 'utf8');
      if (d.kind === 'rolls-back') {
        expect(pem).toBe(old.pem);
        continue;
      }
      const managed = await apiJson<{ currentFingerprintSha256: string }>(controller, `/api/v1/managed-certificates/${d.id}`);
      expect(new X509Certificate(pem).fingerprint256.replaceAll(':', '').toLowerCase()).toBe(managed.currentFingerprintSha256);
    }

    // One key made on the host per run: a CSR job sent again was answered with the key already made.
    expect(await readdir(join(agent.stateDir, 'keys'))).toHaveLength(runs.length);

    const verdict = await apiJson<{ ok: boolean }>(controller, '/api/v1/audit/verify');
    expect(verdict.ok).toBe(true);
  }, 240_000);
});
