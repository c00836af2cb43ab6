// Notifiers over TLS against receivers with a private CA: SMTP with STARTTLS and with TLS from the first
// byte (and refused when the CA is not trusted), and syslog over TLS (RFC 5425).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailConfigSchema } from '../../controller/src/notifiers/email/email-config.js';
import { emailNotifier } from '../../controller/src/notifiers/email/email-notifier.js';
import { DeliveryError } from '../../controller/src/notifiers/notifier.js';
import { syslogConfigSchema } from '../../controller/src/notifiers/syslog/syslog-config.js';
import { syslogNotifier } from '../../controller/src/notifiers/syslog/syslog-notifier.js';
import { issueLeaf, makePki, type TestPki } from '../support/deploy-pki.js';
import { sampleEvent } from '../support/notification-events.js';
import { startSmtpReceiver, startTcpSyslogReceiver, type SmtpReceiver, type SyslogReceiver } from '../support/notification-receivers.js';
import { eventually } from '../support/processes.js';

let dir: string;
let pki: TestPki;
let starttls: SmtpReceiver;
let implicit: SmtpReceiver;
let syslogTls: SyslogReceiver;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'certflow-notify-tls-'));
  pki = await makePki(dir);
  const leaf = await issueLeaf(pki, ['localhost', '127.0.0.1']);
  const tls = { key: leaf.keyPem, cert: leaf.certificatePem + leaf.chainPem };
  [starttls, implicit, syslogTls] = await Promise.all([
    startSmtpReceiver({ auth: { user: 'u', pass: 'p4ssword' }, tls: { ...tls, secure: false } }),
    startSmtpReceiver({ tls: { ...tls, secure: true } }),
    startTcpSyslogReceiver({ tls }),
  ]);
});
afterAll(async () => {
  await Promise.all([starttls?.close(), implicit?.close(), syslogTls?.close()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

const mail = (config: object, secrets: object = {}) => {
  const event = sampleEvent();
  return emailNotifier.send(event, emailConfigSchema.parse({ host: 'localhost', from: 'c@example.net', to: ['ops@example.net'], ...config }), secrets,
    AbortSignal.timeout(10_000)).then(() => event);
};

describe('notifiers over TLS', () => {
  it('sends email with STARTTLS and SMTP AUTH, trusting the relay through the configured CA', async () => {
    const event = await mail({ port: starttls.port, security: 'starttls', caPem: pki.rootPem, username: 'u' }, { password: 'p4ssword' });
    expect(starttls.mails.filter((m) => m.text.includes(event.id))).toHaveLength(1);
  });

  it('sends email over TLS from the first byte', async () => {
    const event = await mail({ port: implicit.port, security: 'tls', caPem: pki.rootPem });
    expect(implicit.mails.filter((m) => m.text.includes(event.id))).toHaveLength(1);
  });

  it('refuses a relay whose certificate it cannot verify', async () => {
    const error = await mail({ port: implicit.port, security: 'tls' }).catch((e: unknown) => e) as DeliveryError;
    expect(error).toBeInstanceOf(DeliveryError);
    expect(error.message).toMatch(/certificate/i);
  });

  it('sends syslog over TLS with octet counting', async () => {
    const event = sampleEvent();
    await syslogNotifier.send(event, syslogConfigSchema.parse({ host: 'localhost', port: syslogTls.port, transport: 'tls', caPem: pki.rootPem }), {},
      AbortSignal.timeout(5000));
    const m = await eventually(async () => syslogTls.messages.find((x) => x.structuredData['certflow@32473']?.eventId === event.id), 5000, 'the message');
    expect(m.msgId).toBe('run.failed');
  });
});
