// Email through a real SMTP server (smtp-server): subject, recipients and both bodies of an event email;
// an approval request sent to each approver with only their own links; SMTP AUTH; and the failures an
// operator must see: unreachable server, refused login, rejected recipient.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailConfigSchema } from '../../controller/src/notifiers/email/email-config.js';
import { emailNotifier } from '../../controller/src/notifiers/email/email-notifier.js';
import { DeliveryError, type DeliveryContext } from '../../controller/src/notifiers/notifier.js';
import { closedPort } from '../support/free-port.js';
import { sampleEvent } from '../support/notification-events.js';
import { startSmtpReceiver, type SmtpReceiver } from '../support/notification-receivers.js';

let smtp: SmtpReceiver;
let smtpAuth: SmtpReceiver;

beforeAll(async () => {
  smtp = await startSmtpReceiver();
  smtpAuth = await startSmtpReceiver({ auth: { user: 'certflow', pass: 's3cret-pass' } });
});
afterAll(async () => {
  await smtp?.close();
  await smtpAuth?.close();
});

const config = (overrides: object = {}) => emailConfigSchema.parse({
  host: '127.0.0.1', port: smtp.port, security: 'none', from: 'certflow <certflow@example.net>', to: ['ops@example.net'], ...overrides,
});
const send = (event = sampleEvent(), cfg = config(), secrets = {}, context?: DeliveryContext) =>
  emailNotifier.send(event, cfg, secrets, AbortSignal.timeout(10_000), context);
const mailsAbout = (r: SmtpReceiver, eventId: string) => r.mails.filter((m) => m.text.includes(eventId));

describe('email notifier', () => {
  it('sends one email per event: subject, recipients, text and HTML bodies', async () => {
    const event = sampleEvent();
    const result = await send(event, config({ cc: ['audit@example.net'] }));
    const [mail] = mailsAbout(smtp, event.id);
    expect(mail.to.sort()).toEqual(['audit@example.net', 'ops@example.net']);
    expect(mail.from).toBe('certflow@example.net');
    expect(mail.subject).toBe('[certflow] [critical] Renewal failed: shop.example.com');
    expect(mail.text).toContain(event.summary);
    expect(mail.text).toMatch(/Host:\s+web-01/);
    expect(mail.text).toMatch(/Error:\s+nginx: \[emerg\] cannot load certificate/);
    expect(mail.html).toContain('<th style="text-align: left; padding: 2px 12px 2px 0; vertical-align: top">Stage</th><td>deploy</td>');
    expect(result.providerMessageId).toBe(mail.headers['message-id']);
  });

  it('escapes what events say in the HTML body', async () => {
    const event = sampleEvent('validation.failed', {}, { error: '<script>alert(1)</script>' });
    await send(event);
    const [mail] = mailsAbout(smtp, event.id);
    expect(mail.html).not.toContain('<script>');
    expect(mail.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('sends an approval request to each approver with only their own links, and to the channel without links', async () => {
    const links = [
      { approver: 'tok-alice', approveUrl: 'https://certflow.example/approve/alice-token', rejectUrl: 'https://certflow.example/reject/alice-token' },
      { approver: 'tok-bob', approveUrl: 'https://certflow.example/approve/bob-token', rejectUrl: 'https://certflow.example/reject/bob-token' },
      { approver: 'tok-carol', approveUrl: 'https://certflow.example/approve/carol-token', rejectUrl: 'https://certflow.example/reject/carol-token' },
    ];
    const event = sampleEvent('approval.required', { severity: 'info', summary: 'Renewal of shop.example.com waits for approval' }, { approvalLinks: links });
    await send(event, config({ approvers: { 'tok-alice': 'alice@example.net', 'tok-bob': 'bob@example.net' } }));
    const mails = mailsAbout(smtp, event.id);
    expect(mails).toHaveLength(3);
    const alice = mails.find((m) => m.to.includes('alice@example.net'))!;
    expect(alice.text).toContain('Approve: https://certflow.example/approve/alice-token');
    expect(alice.text).toContain('Reject:  https://certflow.example/reject/alice-token');
    expect(alice.html).toContain('href="https://certflow.example/approve/alice-token"');
    expect(alice.text).not.toContain('bob-token');
    const bob = mails.find((m) => m.to.includes('bob@example.net'))!;
    expect(bob.text).toContain('https://certflow.example/approve/bob-token');
    expect(bob.text).not.toContain('alice-token');
    const team = mails.find((m) => m.to.includes('ops@example.net'))!;
    expect(team.text).not.toMatch(/-token/);
    expect(mails.every((m) => !m.raw.includes('carol-token'))).toBe(true);
  });

  it('sends only the parts not yet accepted, with Message-IDs derived from the delivery', async () => {
    const links = [{ approver: 'a', approveUrl: 'https://x.example/ok-a', rejectUrl: 'https://x.example/no-a' }];
    const event = sampleEvent('approval.required', {}, { approvalLinks: links });
    const done = new Set(['approver:a']);
    const deliveryId = crypto.randomUUID();
    await send(event, config({ approvers: { a: 'a@example.net' } }), {}, { deliveryId, attempt: 2, partsDone: done, markPartDone: async () => undefined });
    const mails = mailsAbout(smtp, event.id);
    expect(mails.map((m) => m.to)).toEqual([['ops@example.net']]);
    expect(mails[0].headers['message-id']).toBe(`<${deliveryId}.1@certflow>`);
  });

  it('logs in with SMTP AUTH, and reports a refused login as a failure not worth retrying', async () => {
    const event = sampleEvent();
    await send(event, config({ port: smtpAuth.port, username: 'certflow' }), { password: 's3cret-pass' });
    expect(mailsAbout(smtpAuth, event.id)).toHaveLength(1);
    const error = await send(sampleEvent(), config({ port: smtpAuth.port, username: 'certflow' }), { password: 'wrong' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliveryError);
    expect((error as DeliveryError).message).toMatch(/SMTP authentication failed/);
    expect((error as DeliveryError).message).not.toContain('wrong');
    expect((error as DeliveryError).retryable).toBe(false);
  });

  it('reports an unreachable server as a failure worth retrying', async () => {
    const error = await send(sampleEvent(), config({ port: await closedPort() })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliveryError);
    expect((error as DeliveryError).message).toMatch(/SMTP server unreachable: .*ECONNREFUSED/);
    expect((error as DeliveryError).retryable).toBe(true);
  });

  it('reports a rejected recipient with the server\'s reason, as final', async () => {
    smtp.rejectRecipients.add('nobody@example.net');
    const error = await send(sampleEvent(), config({ to: ['nobody@example.net'] })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliveryError);
    expect((error as DeliveryError).message).toMatch(/recipient rejected: nobody@example.net.*550.*User unknown/);
    expect((error as DeliveryError).retryable).toBe(false);
  });

  it('refuses STARTTLS-required delivery to a server that does not offer it', async () => {
    const error = await send(sampleEvent(), config({ security: 'starttls' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliveryError);
    expect((error as DeliveryError).message).toMatch(/STARTTLS/);
  });
});
