// The body of the kill -9 reliability tests (workflow-reliability-crash-*.test.ts): each controller life
// arms one failpoint (controller/src/workflow/failpoints.ts) and gets a new certificate to renew; the
// controller kills itself there, the next life starts on the same database, broker, ports and master key
// with the next failpoint, and picks up whatever the dead one left. Runs still in flight are killed at
// whatever instant they happened to be in. At the end a clean controller finishes everything, and every
// run must have ended exactly once: one terminal state, one terminal audit entry and one run-ending
// event, one certificate signed by the CA, one key made on the host, one deploy per deploy id, the files
// on disk holding the certificate the run recorded, and an audit chain that verifies.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { X509Certificate } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { testNatsUrl } from './nats.js';
import { eventually, type ControllerProcess } from './processes.js';
import { makeCertificate } from './certificates.js';
import { apiJson, createTemplate } from './workflow.js';
import { exactlyOnceProblems, relaunch, RELIABILITY_ENV, runEndEventsPerRun, sql, waitForFailpoint } from './reliability.js';
import { startWorkflowStack, type WorkflowStack } from './workflow-stack.js';

export type Kind = 'renews' | 'rolls-back';
export interface Life {
  failpoint: string;
  /** The certificate declared in this life: one that renews, or one whose deploy fails and rolls back. */
  kind: Kind;
  /** What the database must show right after the kill, when the instant is a telling one. */
  witness?: string;
}

/** One describe block: a database, an agent and a controller of its own, killed once per life in `lives`. */
export function describeCrashLives(title: string, lives: Life[]): void {
  describe(title, () => {
    let stack: WorkflowStack;
    let db: WorkflowStack['db'];
    let controller: ControllerProcess;
    let agentId: string;
    let dir: string;

    beforeAll(async () => {
      stack = await startWorkflowStack({ env: RELIABILITY_ENV, dirPrefix: 'certflow-crash-' });
      ({ db, controller, agentId, dir } = stack);
      // Two targets one at a time, the second outside allowedPaths: deploy fails after changing the first, and the run rolls back.
      await createTemplate(controller, 'one-by-one', { deploy: { batchSize: 1, canary: 1 } });
    }, 60_000);

    const outputs: string[] = [];

    afterAll(async () => {
      if (process.env.CERTFLOW_TEST_DUMP) {
        for (const output of [...outputs, controller?.output() ?? '']) console.log(output.split('\n').filter((l) => /"level":(40|50)|failpoint/.test(l)).join('\n'), '\n-----');
      }
      // Each life relaunched the controller: stop the one running now.
      await stack?.stop({ controller });
    });

    it('every run ends exactly once, nothing is issued or deployed twice, the audit chain verifies', async () => {
      const old = await makeCertificate({ commonName: 'old.example', dnsNames: ['old.example'] });
      const fired: string[] = [];
      for (const [i, life] of lives.entries()) {
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
      expect(fired).toEqual(lives.map((l) => l.failpoint));
      const declared = (await sql<{ id: string; name: string }>(db.url, 'select id, name from managed_certificates'))
        .map((m) => ({ ...m, kind: lives[Number(m.name.slice(1))]!.kind }));
      // Most lives declared their certificate (a life whose controller was killed by an older run first did not).
      expect(declared.length).toBeGreaterThanOrEqual(lives.length / 2);

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
        const counts = await runEndEventsPerRun(testNatsUrl(), stack.prefix);
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
      expect(await readdir(join(stack.agent.stateDir, 'keys'))).toHaveLength(runs.length);

      const verdict = await apiJson<{ ok: boolean }>(controller, '/api/v1/audit/verify');
      expect(verdict.ok).toBe(true);
    }, 300_000);
  });
}
