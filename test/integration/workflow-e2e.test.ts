// The workflow end to end with real processes: a controller (Postgres, NATS JetStream, the built-in CA)
// and an agent on this host. A declared certificate is issued (key made on the host), deployed to file
// targets, validated and recorded; approvals gate it; a failing target rolls back the ones changed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { eventually, type ControllerProcess } from '../support/processes.js';
import { startWorkflowStack, type WorkflowStack } from '../support/workflow-stack.js';
import { makeCertificate } from '../support/certificates.js';
import { apiJson, createTemplate, createToken, FAST_WORKFLOW_ENV, waitForRun, latestRun } from '../support/workflow.js';

let stack: WorkflowStack;
let db: WorkflowStack['db'];
let controller: ControllerProcess;
let agentId: string;
let dir: string;

beforeAll(async () => {
  stack = await startWorkflowStack({ env: FAST_WORKFLOW_ENV, dirPrefix: 'certflow-wf-' });
  ({ db, controller, agentId, dir } = stack);
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

const fileTarget = (name: string) => ({ agentId, kind: 'file', options: { certificatePath: join(dir, `${name}.pem`), chainPath: join(dir, `${name}.chain.pem`), keyPath: join(dir, `${name}.key`) } });

async function declare(body: Record<string, unknown>, token?: string): Promise<{ id: string }> {
  return apiJson(controller, '/api/v1/managed-certificates', { method: 'POST', body: JSON.stringify(body), token }, 201);
}

describe('workflow end to end', () => {
  it('renews a declared certificate with the built-in CA: key on the host, files deployed, every stage recorded, audit chain intact', async () => {
    const managed = await declare({ dnsNames: ['shop.example', 'www.shop.example'], targets: [fileTarget('shop')] });
    const run = await waitForRun(controller, managed.id, ['succeeded', 'failed', 'rolled-back'], 60_000);
    expect(run.error).toBeNull();
    expect(run.state).toBe('succeeded');
    expect(run.stages.map((s) => [s.stage, s.state])).toEqual([
      ['discover', 'succeeded'], ['trigger', 'succeeded'], ['select-ca', 'succeeded'], ['approve-issue', 'skipped'], ['issue', 'succeeded'],
      ['approve-deploy', 'skipped'], ['deploy', 'succeeded'], ['validate', 'succeeded'], ['notify', 'succeeded'],
    ]);
    for (const stage of run.stages) expect(stage.elapsedMs).not.toBeNull();

    const certPem = await readFile(join(dir, 'shop.pem'), 'utf8');
    const cert = new X509Certificate(certPem);
    expect(cert.subjectAltName).toContain('DNS:shop.example');
    // The key was made on this host and matches the deployed certificate.
    const keyPem = await readFile(join(dir, 'shop.key'), 'utf8');
    const spki = (k: ReturnType<typeof createPublicKey>) => createHash('sha256').update(k.export({ type: 'spki', format: 'der' })).digest('hex');
    expect(spki(createPublicKey(createPrivateKey(keyPem)))).toBe(spki(cert.publicKey));
    const chain = new X509Certificate(await readFile(join(dir, 'shop.chain.pem'), 'utf8'));
    expect(cert.verify(chain.publicKey)).toBe(true);

    const after = await apiJson<{ currentFingerprintSha256: string; renewAfter: string; activeRunId: string | null }>(controller, `/api/v1/managed-certificates/${managed.id}`);
    expect(after.currentFingerprintSha256).toBe(cert.fingerprint256.replaceAll(':', '').toLowerCase());
    expect(new Date(after.renewAfter).getTime()).toBeGreaterThan(Date.now());
    expect(after.activeRunId).toBeNull();

    const audit = await apiJson<{ items: { action: string; targetId: string | null }[] }>(controller, `/api/v1/audit?targetId=${run.id}&limit=500`);
    const actions = audit.items.map((a) => a.action);
    expect(actions).toEqual(expect.arrayContaining(['run.started', 'stage.succeeded', 'certificate.issued', 'run.succeeded']));
    const verdict = await apiJson<{ ok: boolean }>(controller, '/api/v1/audit/verify');
    expect(verdict.ok).toBe(true);
  }, 90_000);

  it('refuses a request that both adopts and declares, and a template that does not exist, naming the field', async () => {
    const both = await controller.api('/api/v1/managed-certificates', { method: 'POST', body: JSON.stringify({ certificate: 'ab'.repeat(32), dnsNames: ['x.example'] }) });
    expect(both.status).toBe(400);
    expect(await both.text()).toMatch(/certificate/);
    const unknown = await controller.api('/api/v1/managed-certificates', { method: 'POST', body: JSON.stringify({ template: 'nope', dnsNames: ['x.example'], targets: [fileTarget('x')] }) });
    expect(unknown.status).toBe(400);
    expect(await unknown.text()).toMatch(/template/);
    const renewUnknown = await controller.api('/api/v1/managed-certificates/00000000-0000-4000-8000-000000000000/renew', { method: 'POST' });
    expect(renewUnknown.status).toBe(404);
  });

  it('waits for two approval levels before deploying; the requester cannot approve, nobody approves twice, a finished run cannot be approved', async () => {
    const requester = await createToken(controller, 'requester', 'operator');
    const alice = await createToken(controller, 'alice', 'approver');
    const bob = await createToken(controller, 'bob', 'approver');
    const carol = await createToken(controller, 'carol', 'approver');
    await createTemplate(controller, 'production', {
      approval: { gates: [{ before: 'deploy', levels: [
        { name: 'team lead', approvers: { tokens: [alice.id, requester.id] }, required: 1 },
        { name: 'change board', approvers: { roles: ['approver'] }, required: 2 },
      ] }] },
    });
    const managed = await declare({ template: 'production', dnsNames: ['pay.example'], targets: [fileTarget('pay')] }, requester.token);
    // Renew now, as the requester (the scheduler may have started it already: then this is a 409).
    await controller.api(`/api/v1/managed-certificates/${managed.id}/renew`, { method: 'POST', token: requester.token });
    const waiting = await waitForRun(controller, managed.id, ['waiting-approval']);
    const level1 = waiting.approvals.find((a) => a.level === 0 && a.state === 'pending')!;
    expect(level1.levelName).toBe('team lead');
    const decide = (id: string, token: string, decision = 'approve') => controller.api(`/api/v1/approvals/${id}/decision`, { method: 'POST', token, body: JSON.stringify({ decision }) });

    const run = await latestRun(controller, managed.id);
    const requestedBySelf = (await apiJson<{ requestedBy: string }>(controller, `/api/v1/runs/${run!.id}`)).requestedBy === requester.id;
    if (requestedBySelf) {
      const own = await decide(level1.id, requester.token);
      expect(own.status).toBe(403);
      expect(await own.text()).toMatch(/requester/);
    }
    expect((await decide(level1.id, bob.token)).status).toBe(403); // not named on level 1
    expect((await decide(level1.id, alice.token)).status).toBe(200);
    expect((await decide(level1.id, alice.token)).status).toBe(409); // decided already

    const level2 = (await eventually(async () => (await latestRun(controller, managed.id))!.approvals.find((a) => a.level === 1), 20_000, 'level 2')).id;
    expect((await decide(level2, bob.token)).status).toBe(200);
    expect((await decide(level2, bob.token)).status).toBe(409);
    expect((await latestRun(controller, managed.id))!.state).toBe('waiting-approval');
    expect((await decide(level2, carol.token)).status).toBe(200);
    const done = await waitForRun(controller, managed.id, ['succeeded', 'failed', 'rolled-back']);
    expect(done.state).toBe('succeeded');
    expect((await decide(level2, alice.token)).status).toBe(409);
  }, 90_000);

  it('a rejection ends the run as rejected, and nothing is deployed', async () => {
    const dave = await createToken(controller, 'dave', 'approver');
    await createTemplate(controller, 'guarded', { approval: { gates: [{ before: 'issue', levels: [{ name: 'owner', approvers: { tokens: [dave.id] }, required: 1 }] }] } });
    const managed = await declare({ template: 'guarded', dnsNames: ['no.example'], targets: [fileTarget('no')] });
    const waiting = await waitForRun(controller, managed.id, ['waiting-approval']);
    const response = await controller.api(`/api/v1/approvals/${waiting.approvals[0]!.id}/decision`, { method: 'POST', token: dave.token, body: JSON.stringify({ decision: 'reject' }) });
    expect(response.status).toBe(200);
    const run = await waitForRun(controller, managed.id, ['rejected']);
    expect(run.stages.find((s) => s.stage === 'issue')).toBeUndefined();
    await expect(readFile(join(dir, 'no.pem'))).rejects.toThrow();
  }, 60_000);

  it('a stage failing inside a fused chain fails the run at that stage; the stages before it stay done', async () => {
    // discover → trigger → select-ca run in one transaction; select-ca finds no CA policy entry for the name
    // and refuses. The chain is rolled back and worked stage by stage, so the failure is select-ca's.
    await createTemplate(controller, 'no-ca-applies', { ca: { policy: [{ ca: 'builtin', when: { domainSuffixes: ['elsewhere.test'] } }] } });
    const managed = await declare({ template: 'no-ca-applies', dnsNames: ['nowhere.example'], targets: [fileTarget('nowhere')] });
    const run = await waitForRun(controller, managed.id, ['failed', 'succeeded', 'rolled-back']);
    expect(run.state).toBe('failed');
    expect(run.error).toMatch(/^select-ca: no CA policy entry applies to nowhere\.example/);
    expect(run.stages.map((st) => `${st.stage}=${st.state}`)).toEqual(['discover=succeeded', 'trigger=succeeded', 'select-ca=failed']);
    expect(run.stages.find((st) => st.stage === 'select-ca')?.attempts).toBe(1);
    const audit = await apiJson<{ items: { action: string }[] }>(controller, `/api/v1/audit?targetId=${run.id}&limit=100`);
    expect(audit.items.map((e) => e.action)).toEqual(['run.started', 'stage.succeeded', 'stage.succeeded', 'stage.failed', 'run.failed']);
    await expect(readFile(join(dir, 'nowhere.pem'))).rejects.toThrow();
  }, 60_000);

  it('fan-out to three targets with the third failing: the first two are rolled back to the old certificate', async () => {
    const old = await makeCertificate({ commonName: 'fan.example', dnsNames: ['fan.example'] });
    for (const name of ['fan1', 'fan2']) await writeFile(join(dir, `${name}.pem`), old.pem);
    await createTemplate(controller, 'one-by-one', { deploy: { batchSize: 1, canary: 1 } });
    const outside = { agentId, kind: 'file', options: { certificatePath: '/etc/certflow-test-forbidden/fan3.pem' } };
    const managed = await declare({ template: 'one-by-one', dnsNames: ['fan.example'], targets: [
      { agentId, kind: 'file', options: { certificatePath: join(dir, 'fan1.pem') } },
      { agentId, kind: 'file', options: { certificatePath: join(dir, 'fan2.pem') } },
      outside,
    ] });
    const run = await waitForRun(controller, managed.id, ['rolled-back', 'rollback-failed', 'failed', 'succeeded'], 60_000);
    expect(run.state).toBe('rolled-back');
    expect(run.error).toMatch(/deploy/);
    expect(run.stages.find((s) => s.stage === 'rollback')?.state).toBe('succeeded');
    for (const name of ['fan1', 'fan2']) expect(await readFile(join(dir, `${name}.pem`), 'utf8')).toBe(old.pem);
    const managedAfter = await apiJson<{ consecutiveFailures: number; backoffUntil: string | null }>(controller, `/api/v1/managed-certificates/${managed.id}`);
    expect(managedAfter.consecutiveFailures).toBe(1);
    expect(new Date(managedAfter.backoffUntil!).getTime()).toBeGreaterThan(Date.now() + 50 * 60_000);
  }, 90_000);

  it('deploys to a PKCS#12 keystore with its password from a controller secret that no job row or message holds', async () => {
    const password = 'ks-' + Math.random().toString(36).slice(2) + '-secret';
    expect((await controller.api('/api/v1/secrets/tomcat-keystore', { method: 'PUT', body: JSON.stringify({ value: password }) })).status).toBe(200);
    const listed = await apiJson<{ items: { name: string }[] }>(controller, '/api/v1/secrets');
    expect(JSON.stringify(listed)).not.toContain(password);
    const keystore = join(dir, 'tomcat.p12');
    const managed = await declare({ dnsNames: ['tomcat.example'], targets: [{ agentId, kind: 'pkcs12', options: { path: keystore, alias: 'tomcat', passwordSecret: 'tomcat-keystore' } }] });
    const run = await waitForRun(controller, managed.id, ['succeeded', 'failed', 'rolled-back'], 60_000);
    expect(run.error).toBeNull();
    const { execFileSync } = await import('node:child_process');
    const certs = execFileSync('openssl', ['pkcs12', '-in', keystore, '-nokeys', '-passin', `pass:${password}`], { encoding: 'utf8' });
    expect(certs).toContain('BEGIN CERTIFICATE');
    expect(() => execFileSync('openssl', ['pkcs12', '-in', keystore, '-nokeys', '-passin', 'pass:wrong'], { stdio: 'pipe' })).toThrow();
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query(`select count(*)::int as n from agent_jobs where payload::text like $1 or coalesce(result::text, '') like $1`, [`%${password}%`]);
      expect(rows[0].n).toBe(0);
      const outbox = await client.query(`select count(*)::int as n from outbox where payload::text like $1`, [`%${password}%`]);
      expect(outbox.rows[0].n).toBe(0);
    } finally {
      await client.end();
    }
  }, 90_000);

  it('manual rollback policy: a failed deploy waits for an operator, who accepts it', async () => {
    await createTemplate(controller, 'hands-on', { rollback: { policy: 'manual' } });
    const managed = await declare({ template: 'hands-on', dnsNames: ['manual.example'], targets: [{ agentId, kind: 'file', options: { certificatePath: '/etc/certflow-test-forbidden/m.pem' } }] });
    const waiting = await waitForRun(controller, managed.id, ['waiting-operator']);
    expect(waiting.error).toMatch(/deploy/);
    const accepted = await apiJson<{ state: string }>(controller, `/api/v1/runs/${waiting.id}/accept`, { method: 'POST' }, 200);
    expect(accepted.state).toBe('failed');
    const again = await controller.api(`/api/v1/runs/${waiting.id}/accept`, { method: 'POST' });
    expect(again.status).toBe(409);
  }, 60_000);
});

afterAll(() => {
  if (process.env.CERTFLOW_TEST_DUMP) {
    console.log(controller?.output().split('\n').filter((l) => /"level":(40|50)/.test(l)).slice(-40).join('\n'));
  }
});
