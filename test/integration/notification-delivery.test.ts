// The delivery worker on real Postgres and NATS JetStream, with real receivers: channels managed through
// the admin API (secrets sealed, never shown), events routed by template rules and channel defaults,
// failing and hanging channels retried within their limits without holding up the others, every
// delivery recorded, an event routed twice sent once, test sends, the daily expiry digest, and the audit
// trail forwarded to syslog.
import type { FastifyInstance } from 'fastify';
import { connect, type NatsConnection } from 'nats';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiServer } from '../../controller/src/api/server.js';
import { createAdminToken } from '../../controller/src/auth/admin-tokens.js';
import type { ControllerConfig } from '../../controller/src/config.js';
import { createSecretBox } from '../../controller/src/crypto/master-key.js';
import { Agent, Certificate, CertificateLocation } from '../../controller/src/db/entities/index.js';
import { createOrm, migrate, type Orm } from '../../controller/src/db/orm.js';
import type { CertflowEvent } from '../../controller/src/events/certflow-event.js';
import { createLogger } from '../../controller/src/log.js';
import { ensureStreams } from '../../controller/src/messaging/nats.js';
import { subjects as makeSubjects } from '../../controller/src/messaging/subjects.js';
import { DeliveryWorker } from '../../controller/src/notifiers/delivery-worker.js';
import type { NotificationRule } from '../../controller/src/notifiers/routing.js';
import { verifyWebhookSignature } from '../../controller/src/notifiers/webhook/webhook-signature.js';
import { closedPort } from '../support/free-port.js';
import { deleteStreamsWithPrefix, testNatsUrl, uniquePrefix } from '../support/nats.js';
import { sampleEvent } from '../support/notification-events.js';
import {
  startHttpReceiver, startSmtpReceiver, startUdpSyslogReceiver, type HttpReceiver, type SmtpReceiver, type SyslogReceiver,
} from '../support/notification-receivers.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { eventually } from '../support/processes.js';

const DAY = 86_400_000;
const SIGNING = 'signing-secret-for-the-test-0001';
const SMTP_PASSWORD = 'smtp-password-never-shown';
const prefix = uniquePrefix();
const subjects = makeSubjects(prefix);
const box = createSecretBox(randomBytes(32));
const templateRules = new Map<string, NotificationRule[]>();

let db: TestDatabase;
let orm: Orm;
let nc: NatsConnection;
let app: FastifyInstance;
let worker: DeliveryWorker;
let admin = '';
let operator = '';
let smtp: SmtpReceiver;
let hookOk: HttpReceiver;
let hook500: HttpReceiver;
let hookHang: HttpReceiver;
let syslog: SyslogReceiver;

const api = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object, token = admin) =>
  app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload } : {}) });

async function publish(event: CertflowEvent, msgID: string | undefined = event.id): Promise<void> {
  await nc.jetstream().publish(subjects.event(event.kind), JSON.stringify(event), msgID ? { msgID } : {});
}

async function deliveries(query: string): Promise<Array<{ channel: string; state: string; attempts: number; lastError: string | null; eventId: string }>> {
  const res = await api('GET', `/api/v1/notification-deliveries?limit=500&${query}`);
  expect(res.statusCode).toBe(200);
  return res.json().items;
}

function seedInventory(): Promise<void> {
  const em = orm.em.fork();
  const agent = crypto.randomUUID();
  em.create(Agent, {
    id: agent, name: 'web-07', certificateSerial: '01', previousCertificateSerial: null, certificateNotAfter: new Date(Date.now() + 30 * DAY),
    enrolledAt: new Date(), enrolledWithTokenId: 'abcdefabcdef', lastSeenAt: new Date(), lastCheckInAt: new Date(), lastInventoryAt: null,
    scanProblems: [], revokedAt: null, networkScan: null,
    hostFacts: { hostname: 'web-07', osPlatform: 'linux', osDistro: 'Debian', osRelease: '12', kernel: '6.1', arch: 'x64', ipAddresses: [], agentVersion: '0.1.0', cpuCores: 2, memoryBytes: '1' },
  });
  const add = (subject: string, days: number, removed = false) => {
    const id = crypto.randomUUID();
    const notAfter = new Date(Date.now() + days * DAY + 3_600_000);
    em.create(Certificate, {
      id, fingerprintSha256: id.replaceAll('-', ''), der: Buffer.from('x'), subject, issuer: 'CN=Test CA', serialNumber: '01',
      sans: [subject.slice(3)], searchText: subject, notBefore: new Date(notAfter.getTime() - 90 * DAY), notAfter, keyAlgorithm: 'EC', keySize: null,
      curve: 'P-256', signatureAlgorithm: 'ecdsa-with-SHA256', selfSigned: false, isCa: false, firstSeenAt: new Date(), lastSeenAt: new Date(),
    });
    em.create(CertificateLocation, { id: crypto.randomUUID(), certificate: id, agent, path: `/etc/ssl/${subject.slice(3)}.pem`, position: 0, format: 'pem',
      firstSeenAt: new Date(), lastSeenAt: new Date(), removedAt: removed ? new Date() : null });
  };
  add('CN=soon.example.org', 3);
  add('CN=expired.example.org', -2);
  add('CN=later.example.org', 20);
  add('CN=far.example.org', 200);
  add('CN=gone.example.org', 5, true);
  return em.flush();
}

beforeAll(async () => {
  db = await createTestDatabase();
  orm = await createOrm(db.url);
  await orm.connect();
  await migrate(orm);
  admin = (await createAdminToken(orm.em.fork(), { name: 'root', role: 'admin' })).token;
  operator = (await createAdminToken(orm.em.fork(), { name: 'ops', role: 'operator' })).token;
  nc = await connect({ servers: testNatsUrl() });
  await ensureStreams(nc, subjects);
  [smtp, hookOk, hook500, hookHang, syslog] = await Promise.all([
    startSmtpReceiver({ auth: { user: 'certflow', pass: SMTP_PASSWORD } }), startHttpReceiver(), startHttpReceiver(), startHttpReceiver(), startUdpSyslogReceiver()]);
  hook500.behaviour = () => ({ status: 500, body: 'upstream broken' });
  hookHang.behaviour = () => 'hang';
  app = await createApiServer({
    orm, log: createLogger('silent'), box,
    config: { checkInIntervalSeconds: 30, offlineAfterIntervals: 3, enrollmentTokenDefaultHours: 24, natsPrefix: prefix } as ControllerConfig,
    readiness: () => ({ database: true, nats: true, gateway: true }), agentCa: () => null,
  });
  await seedInventory();
  worker = new DeliveryWorker({
    orm, box, nc, subjects, log: createLogger('silent'), pollMs: 100,
    rulesFor: async (id) => templateRules.get(id) ?? null,
  });
  await worker.start();
});

afterAll(async () => {
  await worker?.stop(100);
  await app?.close();
  await Promise.all([smtp?.close(), hookOk?.close(), hook500?.close(), hookHang?.close(), syslog?.close()]);
  await nc?.close();
  await deleteStreamsWithPrefix(testNatsUrl(), prefix);
  await orm?.close();
  await db?.drop();
});

describe.sequential('notification delivery', () => {
  it('manages channels through the API: admins only, secrets sealed and never shown', async () => {
    const created = await api('POST', '/api/v1/notification-channels', {
      name: 'ops-mail', kind: 'email', defaultEvents: ['agent.offline', 'run.failed'],
      config: { host: '127.0.0.1', port: smtp.port, security: 'none', username: 'certflow', from: 'certflow@example.net', to: ['ops@example.net'] },
      secrets: { password: SMTP_PASSWORD },
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ name: 'ops-mail', kind: 'email', secretNames: ['password'], enabled: true, maxAttempts: 5 });
    expect(created.body).not.toContain(SMTP_PASSWORD);
    for (const channel of [
      { name: 'hook-ok', kind: 'webhook', config: { url: `${hookOk.url}/certflow` }, secrets: { signingSecret: SIGNING } },
      { name: 'hook-500', kind: 'webhook', config: { url: hook500.url }, secrets: { signingSecret: SIGNING }, maxAttempts: 3, retryBackoffSeconds: 1 },
      { name: 'hook-hang', kind: 'webhook', config: { url: hookHang.url }, secrets: { signingSecret: SIGNING }, maxAttempts: 2, retryBackoffSeconds: 1, timeoutSeconds: 1 },
      { name: 'siem', kind: 'syslog', config: { host: '127.0.0.1', port: syslog.port, transport: 'udp' }, defaultEvents: ['*'] },
    ]) {
      const res = await api('POST', '/api/v1/notification-channels', channel);
      expect(res.statusCode, res.body).toBe(201);
    }

    const list = await api('GET', '/api/v1/notification-channels');
    expect(list.json().items.map((c: { name: string }) => c.name)).toEqual(['hook-500', 'hook-hang', 'hook-ok', 'ops-mail', 'siem']);
    expect(list.body).not.toContain(SIGNING);
    const [row] = await orm.em.fork().execute(`select config::text, sealed_secrets from notification_channels where name = 'ops-mail'`);
    expect(row.config + Buffer.from(row.sealed_secrets).toString('latin1')).not.toContain(SMTP_PASSWORD);
    const audit = await api('GET', '/api/v1/audit?action=notification-channel.create');
    expect(audit.json().items).toHaveLength(5);
    expect(audit.body).not.toContain(SMTP_PASSWORD);

    expect((await api('GET', '/api/v1/notification-channels', undefined, operator)).statusCode).toBe(403);
    expect((await api('GET', '/api/v1/notification-deliveries', undefined, operator)).statusCode).toBe(200);
    const bad = await api('POST', '/api/v1/notification-channels', { name: 'bad', kind: 'webhook', config: { url: hookOk.url } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().detail).toMatch(/signingSecret/);
    expect((await api('POST', '/api/v1/notification-channels', { name: 'Bad Name', kind: 'syslog', config: { host: 'x' } })).statusCode).toBe(400);
    expect((await api('POST', '/api/v1/notification-channels', { name: 'siem', kind: 'syslog', config: { host: 'x' } })).statusCode).toBe(409);
    const renamedSecret = await api('PATCH', '/api/v1/notification-channels/hook-ok', { secrets: { signingSecret: `${SIGNING}-2` } });
    expect(renamedSecret.statusCode).toBe(200);
    await api('PATCH', '/api/v1/notification-channels/hook-ok', { secrets: { signingSecret: SIGNING } });
  });

  it('delivers an event to the channels its template names; a failing or hanging channel holds up no other', async () => {
    const templateId = crypto.randomUUID();
    templateRules.set(templateId, [{ events: ['run.failed', 'run.succeeded'], channels: ['ops-mail', 'hook-ok', 'hook-500', 'hook-hang', 'siem'] }]);
    const event = sampleEvent('run.failed', { templateId });
    await publish(event);

    // The healthy channels are done while the hanging one is still within its first attempt.
    const healthy = await eventually(async () => {
      const rows = await deliveries(`eventId=${event.id}`);
      const sent = rows.filter((r) => r.state === 'sent').map((r) => r.channel).sort();
      return sent.length === 3 ? rows : null;
    }, 10_000, 'the healthy channels');
    expect(healthy.filter((r) => r.state === 'sent').map((r) => r.channel).sort()).toEqual(['hook-ok', 'ops-mail', 'siem']);
    expect(smtp.mails.filter((m) => m.text.includes(event.id))).toHaveLength(1);
    const req = hookOk.requests.find((r) => r.headers['x-certflow-event-id'] === event.id)!;
    expect(verifyWebhookSignature(SIGNING, { signature: req.headers['x-certflow-signature'] as string, timestamp: req.headers['x-certflow-timestamp'] as string }, req.body)).toBe('ok');
    expect(syslog.messages.some((m) => m.structuredData['certflow@32473']?.eventId === event.id)).toBe(true);

    const failed = await eventually(async () => {
      const rows = await deliveries(`eventId=${event.id}&state=failed`);
      return rows.length === 2 ? rows : null;
    }, 20_000, 'the failing channels to use up their attempts');
    const byChannel = Object.fromEntries(failed.map((r) => [r.channel, r]));
    expect(byChannel['hook-500']).toMatchObject({ attempts: 3, lastError: expect.stringMatching(/attempt 3\/3: webhook .* answered HTTP 500: upstream broken/) });
    expect(byChannel['hook-hang']).toMatchObject({ attempts: 2, lastError: expect.stringMatching(/attempt 2\/2: .*no answer within the channel's timeout/) });
    expect(hook500.requests.filter((r) => r.headers['x-certflow-event-id'] === event.id)).toHaveLength(3);
    // Every attempt of one delivery carries the same delivery id, the receiver's idempotency key.
    expect(new Set(hook500.requests.map((r) => r.headers['x-certflow-delivery'])).size).toBe(1);
  });

  it('sends an event routed twice only once', async () => {
    const event = sampleEvent('run.succeeded', { templateId: [...templateRules.keys()][0], severity: 'info' });
    await publish(event);
    await eventually(async () => (await deliveries(`eventId=${event.id}&channel=hook-ok&state=sent`)).length === 1, 10_000, 'the first delivery');
    // Published again under another message id (JetStream's own dedup would drop the same id): routed again.
    await publish(event, crypto.randomUUID());
    await publish(event, crypto.randomUUID());
    await new Promise((r) => setTimeout(r, 1500));
    expect(hookOk.requests.filter((r) => r.headers['x-certflow-event-id'] === event.id)).toHaveLength(1);
    expect(smtp.mails.filter((m) => m.text.includes(event.id))).toHaveLength(1);
    expect((await deliveries(`eventId=${event.id}&channel=ops-mail`))).toHaveLength(1);
  });

  it('follows channel defaults when the template says nothing, lets a template silence them, and records unknown channels', async () => {
    const offline = sampleEvent('agent.offline', { templateId: null, runId: null, severity: 'warning', summary: 'Agent web-09 has not checked in for 3 minutes' });
    await publish(offline);
    await eventually(async () => (await deliveries(`eventId=${offline.id}&state=sent`)).length === 2, 10_000, 'default deliveries');
    expect((await deliveries(`eventId=${offline.id}`)).map((r) => r.channel).sort()).toEqual(['ops-mail', 'siem']);

    const quiet = crypto.randomUUID();
    templateRules.set(quiet, [{ events: ['run.failed'], channels: [] }, { events: ['certificate.deployed'], channels: ['hook-ok', 'no-such-channel'] }]);
    const silenced = sampleEvent('run.failed', { templateId: quiet });
    const deployed = sampleEvent('certificate.deployed', { templateId: quiet, severity: 'info' });
    await publish(silenced);
    await publish(deployed);
    const rows = await eventually(async () => {
      const r = await deliveries(`eventId=${deployed.id}`);
      return r.some((x) => x.state === 'sent') ? r : null;
    }, 10_000, 'the deployed event');
    expect(rows.map((r) => [r.channel, r.state]).sort()).toEqual([['hook-ok', 'sent'], ['no-such-channel', 'failed']]);
    expect(rows.find((r) => r.channel === 'no-such-channel')!.lastError).toMatch(/does not exist/);
    expect(await deliveries(`eventId=${silenced.id}`)).toEqual([]);
  });

  it('sends a test notification at once and answers with its outcome', async () => {
    const ok = await api('POST', '/api/v1/notification-channels/ops-mail/test', {});
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ channel: 'ops-mail', eventKind: 'test', state: 'sent', attempts: 1 });
    expect(smtp.mails.find((m) => m.text.includes(ok.json().eventId))!.subject).toBe('[certflow] Test notification');

    await api('POST', '/api/v1/notification-channels', {
      name: 'mail-down', kind: 'email', config: { host: '127.0.0.1', port: await closedPort(), security: 'none', from: 'c@example.net', to: ['x@example.net'] },
    });
    const down = await api('POST', '/api/v1/notification-channels/mail-down/test', {});
    expect(down.json()).toMatchObject({ state: 'failed', attempts: 1, lastError: expect.stringMatching(/SMTP server unreachable/) });
    expect((await api('POST', '/api/v1/notification-channels/nothing/test', {})).statusCode).toBe(404);
  });

  it('lists deliveries filtered by state, channel and event', async () => {
    const failed = await deliveries('state=failed');
    expect(failed.length).toBeGreaterThanOrEqual(3);
    expect(failed.every((r) => r.state === 'failed')).toBe(true);
    const hooks = await deliveries('channel=hook-ok');
    expect(hooks.every((r) => r.channel === 'hook-ok')).toBe(true);
    expect((await api('GET', '/api/v1/notification-deliveries?state=lost')).statusCode).toBe(400);
  });

  it('emails the daily digest of certificates expiring soon, once a day', async () => {
    await api('PATCH', '/api/v1/notification-channels/ops-mail', {
      config: { host: '127.0.0.1', port: smtp.port, security: 'none', username: 'certflow', from: 'certflow@example.net', to: ['ops@example.net'],
        digest: { enabled: true, hourUtc: 0, withinDays: 30 } },
    });
    expect(await worker.queueDueDigests()).toBe(1);
    expect(await worker.queueDueDigests()).toBe(0);
    const mail = await eventually(async () => smtp.mails.find((m) => /expiring within 30 days/.test(m.subject)), 10_000, 'the digest');
    expect(mail.subject).toBe(`[certflow] 3 certificates expiring within 30 days (${new Date().toISOString().slice(0, 10)})`);
    expect(mail.text).toMatch(/- CN=expired\.example\.org .*\r?\n .*expired 2d ago, on web-07/);
    expect(mail.text).toMatch(/- CN=soon\.example\.org .*\r?\n .*3d left, on web-07/);
    expect(mail.text).toContain('CN=later.example.org');
    expect(mail.text).not.toContain('far.example.org');
    expect(mail.text).not.toContain('gone.example.org');
    expect(mail.html).toContain('soon.example.org');
  });

  it('forwards the audit trail to syslog as it is written', async () => {
    await api('PATCH', '/api/v1/notification-channels/siem', { config: { host: '127.0.0.1', port: syslog.port, transport: 'udp', forwardAudit: true } });
    // The first pass records where forwarding starts; entries written after it go out.
    await eventually(async () => {
      const [r] = await orm.em.fork().execute(`select audit_forwarded_seq from notification_channels where name = 'siem'`);
      return r.audit_forwarded_seq !== null;
    }, 10_000, 'forwarding to start');
    await api('DELETE', '/api/v1/notification-channels/mail-down');
    const entry = await eventually(async () => syslog.messages.find((m) => m.msgId === 'audit'
      && m.structuredData['certflowAudit@32473']?.action === 'notification-channel.delete'), 10_000, 'the audit entry on syslog');
    expect(entry.structuredData['certflowAudit@32473']).toMatchObject({ actor: 'token:root', targetType: 'notification-channel', targetId: 'mail-down' });
    expect(entry.structuredData['certflowAudit@32473'].hash).toMatch(/^[0-9a-f]{64}$/);
    expect(entry.message).toBe('token:root notification-channel.delete notification-channel mail-down');
  });
});
