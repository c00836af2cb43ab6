// Webhooks to a local HTTP server (payload, HMAC signature with its timestamp, Slack and Teams shapes,
// approval links only for the channel's approvers; a server answering 500 and one hanging fail the
// delivery), and syslog to UDP and TCP sockets parsed as RFC 5424.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryError } from '../../controller/src/notifiers/notifier.js';
import { syslogConfigSchema } from '../../controller/src/notifiers/syslog/syslog-config.js';
import { syslogNotifier } from '../../controller/src/notifiers/syslog/syslog-notifier.js';
import { webhookConfigSchema } from '../../controller/src/notifiers/webhook/webhook-config.js';
import { webhookNotifier } from '../../controller/src/notifiers/webhook/webhook-notifier.js';
import { verifyWebhookSignature } from '../../controller/src/notifiers/webhook/webhook-signature.js';
import { sampleEvent } from '../support/notification-events.js';
import {
  startHttpReceiver, startTcpSyslogReceiver, startUdpSyslogReceiver, type HttpReceiver, type SyslogReceiver,
} from '../support/notification-receivers.js';
import { eventually } from '../support/processes.js';

const SECRET = 'webhook-signing-secret-0123456789';
let http: HttpReceiver;
let udp: SyslogReceiver;
let tcp: SyslogReceiver;

beforeAll(async () => {
  [http, udp, tcp] = await Promise.all([startHttpReceiver(), startUdpSyslogReceiver(), startTcpSyslogReceiver()]);
});
afterAll(async () => {
  await Promise.all([http?.close(), udp?.close(), tcp?.close()]);
});

const hook = (config: object, secrets: object = { signingSecret: SECRET }, event = sampleEvent(), timeoutMs = 10_000) =>
  webhookNotifier.send(event, webhookConfigSchema.parse({ url: `${http.url}/hook`, ...config }), secrets, AbortSignal.timeout(timeoutMs),
    { deliveryId: 'd-1', attempt: 1, partsDone: new Set(), markPartDone: async () => undefined });
const requestFor = (eventId: string) => http.requests.find((r) => r.headers['x-certflow-event-id'] === eventId)!;

describe('webhook notifier', () => {
  it('posts the event as JSON, signed over timestamp and raw body', async () => {
    http.behaviour = () => ({ status: 204 });
    const event = sampleEvent();
    await hook({}, undefined, event);
    const req = requestFor(event.id);
    expect(req.method).toBe('POST');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['x-certflow-event']).toBe('run.failed');
    expect(req.headers['x-certflow-delivery']).toBe('d-1');
    const headers = { signature: req.headers['x-certflow-signature'] as string, timestamp: req.headers['x-certflow-timestamp'] as string };
    expect(headers.signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifyWebhookSignature(SECRET, headers, req.body)).toBe('ok');
    expect(verifyWebhookSignature('another-secret-of-some-length', headers, req.body)).toBe('bad-signature');
    expect(verifyWebhookSignature(SECRET, headers, req.body.replace('web-01', 'web-02'))).toBe('bad-signature');
    // The same request replayed later is refused by its timestamp; a new timestamp breaks the signature.
    expect(verifyWebhookSignature(SECRET, headers, req.body, 300, Number(headers.timestamp) + 301)).toBe('stale');
    expect(verifyWebhookSignature(SECRET, { ...headers, timestamp: String(Number(headers.timestamp) + 301) }, req.body, 300, Number(headers.timestamp) + 301)).toBe('bad-signature');
    const body = JSON.parse(req.body);
    expect(body).toMatchObject({ delivery: 'd-1', title: 'Renewal failed: shop.example.com', event: { id: event.id, kind: 'run.failed', details: { host: 'web-01' } } });
  });

  it('carries approval links only of the approvers the channel is for', async () => {
    const event = sampleEvent('approval.required', {}, { approvalLinks: [
      { approver: 'tok-alice', approveUrl: 'https://c.example/a/ok', rejectUrl: 'https://c.example/a/no' },
      { approver: 'tok-bob', approveUrl: 'https://c.example/b/ok', rejectUrl: 'https://c.example/b/no' },
    ] });
    await hook({ approvers: ['tok-alice'] }, undefined, event);
    const body = JSON.parse(requestFor(event.id).body);
    expect(body.event.details.approvalLinks).toEqual([{ approver: 'tok-alice', approveUrl: 'https://c.example/a/ok', rejectUrl: 'https://c.example/a/no' }]);
    const other = { ...event, id: crypto.randomUUID() };
    await hook({}, undefined, other);
    expect(requestFor(other.id).body).not.toContain('c.example');
  });

  it('speaks Slack and Teams', async () => {
    const event = sampleEvent('approval.required', {}, { approvalLinks: [{ approver: 'a', approveUrl: 'https://c.example/ok', rejectUrl: 'https://c.example/no' }] });
    await hook({ format: 'slack', approvers: ['a'] }, {}, event);
    const slack = JSON.parse(requestFor(event.id).body);
    expect(slack.text).toBe(`Approval required: shop.example.com: ${event.summary}`);
    expect(slack.blocks.at(-1)).toMatchObject({ type: 'actions', elements: [{ url: 'https://c.example/ok' }, { url: 'https://c.example/no' }] });
    const teamsEvent = { ...event, id: crypto.randomUUID() };
    await hook({ format: 'teams', approvers: ['a'] }, {}, teamsEvent);
    const teams = JSON.parse(requestFor(teamsEvent.id).body);
    expect(teams.attachments[0].contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(teams.attachments[0].content.actions).toEqual([
      { type: 'Action.OpenUrl', title: 'Approve', url: 'https://c.example/ok' }, { type: 'Action.OpenUrl', title: 'Reject', url: 'https://c.example/no' }]);
  });

  it('fails on HTTP 500 (worth retrying) and on 400 (not), saying what the server answered', async () => {
    http.behaviour = () => ({ status: 500, body: 'database unavailable' });
    const e500 = await hook({}).catch((e: unknown) => e) as DeliveryError;
    expect(e500).toBeInstanceOf(DeliveryError);
    expect(e500.message).toBe(`webhook http://${new URL(http.url).host} answered HTTP 500: database unavailable`);
    expect(e500.retryable).toBe(true);
    http.behaviour = () => ({ status: 400, body: 'bad payload' });
    const e400 = await hook({}).catch((e: unknown) => e) as DeliveryError;
    expect(e400.retryable).toBe(false);
  });

  it('gives up on a server that never answers, within the timeout', async () => {
    http.behaviour = () => 'hang';
    const started = Date.now();
    const error = await hook({}, undefined, sampleEvent(), 800).catch((e: unknown) => e) as DeliveryError;
    expect(error).toBeInstanceOf(DeliveryError);
    expect(error.message).toMatch(/no answer within the channel's timeout/);
    expect(error.retryable).toBe(true);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('never names a secret URL in its errors', async () => {
    http.behaviour = () => ({ status: 404 });
    const error = await webhookNotifier.send(sampleEvent(), webhookConfigSchema.parse({ format: 'slack' }),
      { url: `${http.url}/services/T000/B000/XXXXSECRETXXXX` }, AbortSignal.timeout(5000)).catch((e: unknown) => e) as DeliveryError;
    expect(error.message).not.toContain('XXXXSECRETXXXX');
  });
});

describe('syslog notifier', () => {
  const syslog = (config: object, event = sampleEvent()) =>
    syslogNotifier.send(event, syslogConfigSchema.parse({ host: '127.0.0.1', hostname: 'ctl-1', ...config }), {}, AbortSignal.timeout(5000)).then(() => event);

  it('sends RFC 5424 over UDP with the event in structured data', async () => {
    const event = await syslog({ port: udp.port, transport: 'udp', facility: 'local3' });
    const m = await eventually(async () => udp.messages.find((x) => x.structuredData['certflow@32473']?.eventId === event.id), 5000, 'the syslog message');
    expect(m).toMatchObject({ version: 1, facility: 19, severity: 2, hostname: 'ctl-1', appName: 'certflow', msgId: 'run.failed', message: event.summary });
    expect(m.structuredData['certflow@32473']).toMatchObject({ kind: 'run.failed', host: 'web-01', stage: 'deploy', certificate: 'shop.example.com',
      error: 'nginx: [emerg] cannot load certificate', daysLeft: '12', runId: event.runId! });
  });

  it('sends RFC 5424 over TCP with octet counting, escaping what must be escaped', async () => {
    const event = await syslog({ port: tcp.port, transport: 'tcp' }, sampleEvent('validation.failed', { severity: 'warning', summary: 'Zertifikat für café.example ungültig' },
      { error: 'served "old" cert ] \\ here' }));
    const m = await eventually(async () => tcp.messages.find((x) => x.structuredData['certflow@32473']?.eventId === event.id), 5000, 'the syslog message');
    expect(m.severity).toBe(4);
    expect(m.message).toBe('Zertifikat für café.example ungültig');
    expect(m.structuredData['certflow@32473'].error).toBe('served "old" cert ] \\ here');
  });

  it('fails when the collector refuses the connection', async () => {
    const { closedPort } = await import('../support/free-port.js');
    const error = await syslog({ port: await closedPort(), transport: 'tcp' }).catch((e: unknown) => e) as DeliveryError;
    expect(error).toBeInstanceOf(DeliveryError);
    expect(error.message).toMatch(/^syslog tcp:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/);
  });
});
