// Email over SMTP (nodemailer): one message per event, or per approver for an approval request (each
// with only their own links), and the daily expiry digest. Message-IDs derive from the delivery id, so a
// message sent again after a crash carries the same id and mail systems can recognise the duplicate.
import nodemailer from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import type { CertflowEvent } from '../../events/certflow-event.js';
import { linksFor } from '../event-text.js';
import { asDeliveryError, DeliveryError, type DeliveryContext, type Notifier, type SendResult } from '../notifier.js';
import { emailConfigSchema, emailSecretsSchema, type EmailConfig, type EmailSecrets } from './email-config.js';
import { renderDigestEmail, renderEventEmail, type RenderedEmail } from './email-templates.js';
import { digestOf } from './expiry-digest.js';

interface Part {
  /** Stable name of the part within the delivery ("recipients", "approver:<id>"). */
  key: string;
  to: string[];
  cc: string[];
  mail: RenderedEmail;
}

/** The messages one event becomes on this channel. */
export function emailParts(event: CertflowEvent, config: EmailConfig): Part[] {
  const digest = digestOf(event);
  if (digest) return config.to.length ? [{ key: 'recipients', to: config.to, cc: config.cc, mail: renderDigestEmail(digest, config.subjectPrefix) }] : [];
  const parts: Part[] = [];
  if (event.kind === 'approval.required') {
    for (const [approver, address] of Object.entries(config.approvers)) {
      const links = linksFor(event, [approver]);
      if (links.length) parts.push({ key: `approver:${approver}`, to: [address], cc: [], mail: renderEventEmail(event, config.subjectPrefix, links) });
    }
  }
  if (config.to.length) parts.push({ key: 'recipients', to: config.to, cc: config.cc, mail: renderEventEmail(event, config.subjectPrefix) });
  return parts;
}

function transportOptions(config: EmailConfig, secrets: EmailSecrets, timeoutMs: number): SMTPTransport.Options {
  return {
    host: config.host,
    port: config.port,
    secure: config.security === 'tls',
    requireTLS: config.security === 'starttls',
    ignoreTLS: config.security === 'none',
    auth: config.username ? { user: config.username, pass: secrets.password ?? '' } : undefined,
    tls: { rejectUnauthorized: config.rejectUnauthorized, ...(config.caPem ? { ca: config.caPem } : {}) },
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    // One connection per delivery: nothing to keep open between events.
    pool: false,
  };
}

type SmtpError = Error & { code?: string; responseCode?: number; response?: string; rejected?: string[] };

/** Why the server refused, and whether trying again can help (RFC 5321: 4xx transient, 5xx permanent). */
function smtpFailure(err: SmtpError, to: string[]): DeliveryError {
  const reply = err.response ? ` (server said: ${err.response.slice(0, 300)})` : '';
  if (err.code === 'EAUTH') return new DeliveryError(`SMTP authentication failed${reply}`, false, { cause: err });
  if (err.code === 'EENVELOPE') {
    const rejected = err.rejected?.length ? err.rejected.join(', ') : to.join(', ');
    return new DeliveryError(`recipient rejected: ${rejected}${reply}`, !(err.responseCode && err.responseCode >= 500), { cause: err });
  }
  if (err.code === 'ETLS' || /STARTTLS/i.test(err.message)) return new DeliveryError(`TLS with the SMTP server failed: ${err.message}`, true, { cause: err });
  if (err.responseCode) return new DeliveryError(`SMTP server refused the message: ${err.responseCode}${reply}`, err.responseCode < 500, { cause: err });
  return new DeliveryError(`SMTP server ${err.code === 'ECONNECTION' || err.code === 'ESOCKET' || err.code === 'ETIMEDOUT' ? 'unreachable' : 'error'}: ${err.message}`, true, { cause: err });
}

async function sendOne(config: EmailConfig, secrets: EmailSecrets, part: Part, messageId: string | undefined, signal: AbortSignal): Promise<string> {
  const transport = nodemailer.createTransport(transportOptions(config, secrets, 30_000));
  const aborted = new Promise<never>((_, reject) => {
    const onAbort = () => {
      transport.close();
      reject(asDeliveryError(new Error('aborted'), signal, 'SMTP'));
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    const info = await Promise.race([transport.sendMail({
      from: config.from, to: part.to, cc: part.cc, subject: part.mail.subject, text: part.mail.text, html: part.mail.html,
      ...(messageId ? { messageId } : {}),
      headers: { 'X-Certflow-Part': part.key },
    }), aborted]);
    if (info.rejected.length) {
      // Some recipients took it: sending again would repeat it to them, so this is final.
      throw new DeliveryError(`recipient rejected: ${info.rejected.map(String).join(', ')} (delivered to ${info.accepted.map(String).join(', ') || 'nobody'})`, false);
    }
    return info.messageId;
  } catch (err) {
    if (err instanceof DeliveryError) throw err;
    if (signal.aborted) throw asDeliveryError(err, signal, 'SMTP');
    throw smtpFailure(err as SmtpError, part.to);
  } finally {
    transport.close();
  }
}

export const emailNotifier: Notifier<EmailConfig, EmailSecrets> = {
  kind: 'email',
  configSchema: emailConfigSchema,
  secretsSchema: emailSecretsSchema,
  async send(event, config, secrets, signal, context?: DeliveryContext): Promise<SendResult> {
    const parts = emailParts(event, config);
    if (!parts.length) return { providerMessageId: 'nothing to send: no recipient on this channel for this event' };
    const ids: string[] = [];
    for (const [i, part] of parts.entries()) {
      if (context?.partsDone.has(part.key)) continue;
      const messageId = context ? `<${context.deliveryId}.${i}@certflow>` : undefined;
      ids.push(await sendOne(config, secrets, part, messageId, signal));
      await context?.markPartDone(part.key);
    }
    return { providerMessageId: ids.join(' ') };
  },
};
