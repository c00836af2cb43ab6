// Settings of a syslog channel (RFC 5424 messages over UDP, TCP or TLS).
import { z } from 'zod';

export const FACILITIES = ['kern', 'user', 'mail', 'daemon', 'auth', 'syslog', 'lpr', 'news', 'uucp', 'cron', 'authpriv', 'ftp',
  'ntp', 'audit', 'alert', 'clock', 'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7'] as const;

export const syslogConfigSchema = z.strictObject({
  host: z.string().min(1).max(255),
  /** Defaults to 514 (UDP, TCP) or 6514 (TLS, RFC 5425). */
  port: z.int().min(1).max(65535).optional(),
  /** udp: RFC 5426, one message per datagram; tcp / tls: RFC 6587 octet-counting framing. */
  transport: z.enum(['udp', 'tcp', 'tls']).default('udp'),
  facility: z.enum(FACILITIES).default('local0'),
  appName: z.string().regex(/^[!-~]{1,48}$/, 'printable ASCII without spaces, at most 48 characters').default('certflow'),
  /** HOSTNAME field; defaults to this controller's host name. */
  hostname: z.string().regex(/^[!-~]{1,255}$/).optional(),
  /** UDP only: longer messages are cut to this many bytes (RFC 5426 receivers take at least 480; most 2048). */
  maxMessageBytes: z.int().min(480).max(65000).default(2048),
  caPem: z.string().max(64 * 1024).optional(),
  rejectUnauthorized: z.boolean().default(true),
  /** TLS client certificate (PEM), for collectors that require one; its key is a secret. */
  clientCertPem: z.string().max(64 * 1024).optional(),
  /** Also send every audit-trail entry, in order, as it is written (read back from the audit table). */
  forwardAudit: z.boolean().default(false),
});
export type SyslogConfig = z.output<typeof syslogConfigSchema>;

export const syslogSecretsSchema = z.strictObject({
  clientKeyPem: z.string().max(64 * 1024).optional(),
});
export type SyslogSecrets = z.output<typeof syslogSecretsSchema>;
