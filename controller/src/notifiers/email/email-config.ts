// Settings of an email channel. The password is the only secret.
import { z } from 'zod';

const address = z.email();

export const emailConfigSchema = z.strictObject({
  host: z.string().min(1).max(255),
  port: z.int().min(1).max(65535).default(587),
  /**
   * starttls: plain connection upgraded with STARTTLS, refused if the server does not offer it;
   * tls: TLS from the first byte (port 465); opportunistic: STARTTLS when offered; none: never TLS.
   */
  security: z.enum(['starttls', 'tls', 'opportunistic', 'none']).default('starttls'),
  /** SMTP AUTH user; the password is a secret. */
  username: z.string().min(1).max(255).optional(),
  /** CA certificate(s) (PEM) for a relay with a private CA. */
  caPem: z.string().max(64 * 1024).optional(),
  rejectUnauthorized: z.boolean().default(true),
  from: z.string().min(3).max(320),
  to: z.array(address).max(100).default([]),
  cc: z.array(address).max(100).default([]),
  /**
   * Approvers (as named in approval links: the approver's token id) and their addresses. An approval
   * request goes to each of them with their own approve/reject links; `to` and `cc` get it without links.
   */
  approvers: z.record(z.string().min(1).max(200), address).default({}),
  subjectPrefix: z.string().max(50).default('[certflow]'),
  /** A daily email of the inventory's certificates expiring soon, sent after `hourUtc`. */
  digest: z.strictObject({
    enabled: z.boolean().default(false),
    hourUtc: z.int().min(0).max(23).default(7),
    withinDays: z.int().min(1).max(365).default(30),
    maxCertificates: z.int().min(1).max(1000).default(200),
  }).prefault({}),
}).refine((c) => c.to.length > 0 || Object.keys(c.approvers).length > 0, {
  message: 'an email channel needs recipients in "to" or "approvers"', path: ['to'],
});
export type EmailConfig = z.output<typeof emailConfigSchema>;

export const emailSecretsSchema = z.strictObject({
  password: z.string().min(1).max(1024).optional(),
});
export type EmailSecrets = z.output<typeof emailSecretsSchema>;
