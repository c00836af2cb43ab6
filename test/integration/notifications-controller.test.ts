// Notifications from a real controller process: an approval requested by the workflow reaches the
// approver by email with their own link, and following it approves the run; a controller SIGKILLed
// while webhooks are in flight, then started again, has each message accepted by the receiver exactly
// once; certflowctl notify manages channels, sends a test and lists deliveries.
import type { ServerResponse } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subjects as makeSubjects } from '../../controller/src/messaging/subjects.js';
import { deleteStreamsWithPrefix, testNatsUrl, uniquePrefix } from '../support/nats.js';
import { sampleEvent } from '../support/notification-events.js';
import { startHttpReceiver, startSmtpReceiver, type HttpReceiver, type SmtpReceiver } from '../support/notification-receivers.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { createEnrollmentToken, eventually, restartController, runTsx, startAgent, startController, type AgentProcess, type ControllerProcess, onlineAgentId, deployingAgentConfig } from '../support/processes.js';

const prefix = uniquePrefix();
/** A workflow that acts in milliseconds, so the run reaches its approval at once. */
const FAST_WORKFLOW_ENV = {
  CERTFLOW_SCHEDULER_INTERVAL_SECONDS: '0.3', CERTFLOW_WORKFLOW_TICK_MS: '200', CERTFLOW_WORKFLOW_ACK_WAIT_SECONDS: '4',
  CERTFLOW_STAGE_RETRY_DELAY_SECONDS: '0.3', CERTFLOW_STAGE_TIMEOUT_SECONDS: '30',
};
let db: TestDatabase;
let controller: ControllerProcess;
let agent: AgentProcess | undefined;
let smtp: SmtpReceiver;
let hook: HttpReceiver;
let dir: string;

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await mkdtemp(join(tmpdir(), 'certflow-notify-'));
  [smtp, hook] = await Promise.all([startSmtpReceiver(), startHttpReceiver()]);
  controller = await startController({ databaseUrl: db.url, natsPrefix: prefix, env: FAST_WORKFLOW_ENV });
}, 60_000);

afterAll(async () => {
  await agent?.stop();
  await controller?.stop();
  await Promise.all([smtp?.close(), hook?.close()]);
  await db?.drop();
  await deleteStreamsWithPrefix(testNatsUrl(), prefix);
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function apiJson<T>(controller: ControllerProcess, path: string, init: RequestInit = {}, expectStatus?: number): Promise<T> {
  const response = await controller.api(path, init);
  const text = await response.text();
  if (expectStatus !== undefined && response.status !== expectStatus) throw new Error(`${init.method ?? 'GET'} ${path}: expected ${expectStatus}, got ${response.status}: ${text}`);
  return (text ? JSON.parse(text) : null) as T;
}
const createToken = (c: ControllerProcess, name: string, role: string) =>
  apiJson<{ id: string; token: string }>(c, '/api/v1/admin-tokens', { method: 'POST', body: JSON.stringify({ name, role }) }, 201);
const createTemplate = (c: ControllerProcess, name: string, document: object) =>
  apiJson(c, '/api/v1/templates', { method: 'POST', body: JSON.stringify({ name, document }) }, 201);
const createChannel = (body: object) => apiJson(controller, '/api/v1/notification-channels', { method: 'POST', body: JSON.stringify(body) }, 201);

describe.sequential('notifications from the controller', () => {
  it('emails an approver their own approval link; following it approves the run', async () => {
    // A run needs an agent for its target (the key is made there), though this one stops at approval.
    agent = await startAgent({
      controller: controller.grpcAddress, enrollment: await createEnrollmentToken(controller), scanPaths: [dir],
      extraConfig: deployingAgentConfig(dir),
    });
    const agentId = await onlineAgentId(controller, 20_000);
    const dave = await createToken(controller, 'dave', 'approver');
    const erin = await createToken(controller, 'erin', 'approver');
    await createChannel({
      name: 'approvals', kind: 'email',
      config: { host: '127.0.0.1', port: smtp.port, security: 'none', from: 'certflow@example.net', to: ['team@example.net'],
        approvers: { [dave.id]: 'dave@example.net', [erin.id]: 'erin@example.net' } },
    });
    await createTemplate(controller, 'mailed', {
      approval: { gates: [{ before: 'issue', levels: [{ name: 'owner', approvers: { tokens: [dave.id, erin.id] }, required: 1 }] }] },
      notifications: { rules: [{ events: ['approval.required'], channels: ['approvals'] }] },
    });
    const managed = await apiJson<{ id: string }>(controller, '/api/v1/managed-certificates',
      { method: 'POST', body: JSON.stringify({ template: 'mailed', dnsNames: ['mailed.example'],
        targets: [{ agentId, kind: 'file', options: { certificatePath: join(dir, 'mailed.pem') } }] }) }, 201);
    expect(managed.id).toBeTruthy();

    const mail = await eventually(async () => smtp.mails.find((m) => m.to.includes('dave@example.net')), 20_000, "dave's email");
    expect(mail.subject).toBe('[certflow] Approval required: mailed.example');
    const approve = /Approve: (\S+)/.exec(mail.text)![1];
    expect(approve).toMatch(/\/approve\/.+\?decision=approve$/);
    const erinMail = await eventually(async () => smtp.mails.find((m) => m.to.includes('erin@example.net')), 20_000, "erin's email");
    expect(erinMail.text).not.toContain(approve.split('?')[0]);
    const teamMail = await eventually(async () => smtp.mails.find((m) => m.to.includes('team@example.net')), 20_000, "the team's email");
    expect(teamMail.text).not.toContain('/approve/');

    // The link opens a page; deciding is a POST to the same address (a mail scanner's GET decides nothing).
    const linkUrl = new URL(approve);
    const pageUrl = `${controller.apiUrl}${linkUrl.pathname}`;
    expect((await fetch(pageUrl)).status).toBe(200);
    const decided = await fetch(pageUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ decision: 'approve' }) });
    expect(decided.status).toBe(200);
    expect(await decided.json()).toMatchObject({ state: 'approved' });
    // The link is single-use.
    const again = await fetch(pageUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ decision: 'approve' }) });
    expect(again.status).toBe(410);
  }, 90_000);

  it('sends each webhook once although the controller was killed mid-delivery', async () => {
    await createChannel({ name: 'hook', kind: 'webhook', config: { url: `${hook.url}/in` }, secrets: { signingSecret: 'kill-test-signing-secret' },
      defaultEvents: ['certificate.expiring'], timeoutSeconds: 2, retryBackoffSeconds: 1 });
    // The receiver answers the first two requests, then holds every request unanswered: the controller
    // dies while they are in flight, before they were accepted.
    const held: ServerResponse[] = [];
    hook.behaviour = () => (hook.requests.length <= 2 ? { status: 200 } : (res: ServerResponse) => void held.push(res));
    const events = Array.from({ length: 6 }, (_, i) => sampleEvent('certificate.expiring', { templateId: null, runId: null, severity: 'warning' }, { daysLeft: i }));
    const nc = await connect({ servers: testNatsUrl() });
    const subjects = makeSubjects(prefix);
    for (const event of events) await nc.jetstream().publish(subjects.event(event.kind), JSON.stringify(event), { msgID: event.id });
    await nc.close();

    const states = async () => (await apiJson<{ items: { eventId: string; state: string; attempts: number }[] }>(controller,
      '/api/v1/notification-deliveries?channel=hook&limit=100')).items;
    await eventually(async () => held.length >= 1 && (await states()).filter((d) => d.state === 'sent').length === 2, 20_000, 'two sent and one held');
    await controller.kill();
    for (const res of held) res.destroy();
    hook.behaviour = () => ({ status: 200 });

    controller = await restartController(controller);
    const done = await eventually(async () => {
      const rows = await states();
      return rows.length === 6 && rows.every((d) => d.state === 'sent') ? rows : null;
    }, 40_000, 'every delivery sent after the restart');
    // Every held request was a first attempt that the restart tried again. A delivery claimed just before the
    // kill whose request had not reached the receiver yet was tried again too: at least the held ones.
    expect(done.filter((d) => d.attempts === 2).length).toBeGreaterThanOrEqual(held.length);
    for (const event of events) {
      const accepted = hook.requests.filter((r) => r.headers['x-certflow-event-id'] === event.id && r.answered);
      expect(accepted, `event ${event.id}`).toHaveLength(1);
    }
    // The requests the dead controller left unanswered were sent again, with the same delivery id.
    const unanswered = hook.requests.filter((r) => !r.answered);
    expect(unanswered.length).toBe(held.length);
    for (const r of unanswered) {
      expect(hook.requests.filter((x) => x.headers['x-certflow-delivery'] === r.headers['x-certflow-delivery'] && x.answered)).toHaveLength(1);
    }
  }, 120_000);

  it('is managed with certflowctl notify', async () => {
    const ctl = async (...args: string[]) => {
      const p = runTsx('controller/src/cli/main.ts', [...args, '--url', controller.apiUrl, '--token', controller.adminToken], {});
      return { code: await p.exited, out: p.output() };
    };
    const config = join(dir, 'mail.json');
    const secrets = join(dir, 'mail-secrets.json');
    await writeFile(config, JSON.stringify({ host: '127.0.0.1', port: smtp.port, security: 'none', from: 'c@example.net', to: ['cli@example.net'] }));
    await writeFile(secrets, JSON.stringify({ password: 'cli-secret-password' }));
    const created = await ctl('notify', 'channels', 'create', 'cli-mail', '--kind', 'email', '--config', `@${config}`, '--secrets', `@${secrets}`,
      '--default-events', 'run.failed,agent.offline');
    expect(created.out).toContain('channel "cli-mail" (email) created');
    const list = await ctl('notify', 'channels', 'list');
    expect(list.out).toMatch(/cli-mail\s+email\s+yes\s+run\.failed,agent\.offline\s+password/);
    expect(list.out).not.toContain('cli-secret-password');
    const test = await ctl('notify', 'test', 'cli-mail');
    expect(test.code).toBe(0);
    expect(test.out).toContain('test notification sent to "cli-mail"');
    expect(smtp.mails.some((m) => m.to.includes('cli@example.net'))).toBe(true);
    await ctl('notify', 'channels', 'update', 'cli-mail', '--config', JSON.stringify({ host: '127.0.0.1', port: 9, security: 'none', from: 'c@example.net', to: ['cli@example.net'] }));
    const failed = await ctl('notify', 'test', 'cli-mail');
    expect(failed.code).toBe(1);
    expect(failed.out).toMatch(/test notification to "cli-mail" failed: attempt 1\/5: SMTP server unreachable/);
    const deliveries = await ctl('notify', 'deliveries', '--channel', 'cli-mail');
    expect(deliveries.out).toMatch(/cli-mail\s+test\s+1\s+sent/);
    expect(deliveries.out).toMatch(/cli-mail\s+test\s+1\s+failed: attempt 1\/5: SMTP server unreachable/);
    expect((await ctl('notify', 'channels', 'delete', 'cli-mail')).out).toContain('deleted');
  }, 90_000);
});
