// Settings of a webhook channel. The URL may be a secret itself (a Slack or Teams incoming-webhook URL
// carries its token): give it in `secrets.url` and it is sealed like the signing key.
import { z } from 'zod';

const httpUrl = z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }).max(2000);

export const webhookConfigSchema = z.strictObject({
  url: httpUrl.optional(),
  /** certflow: the event as JSON, signed; slack: Slack's {text, blocks}; teams: a message with an Adaptive Card. */
  format: z.enum(['certflow', 'slack', 'teams']).default('certflow'),
  /** Extra request headers (not secret: shown to admins). */
  headers: z.record(z.string().regex(/^[A-Za-z0-9-]{1,100}$/, 'expected a header name'), z.string().max(1000)).default({}),
  caPem: z.string().max(64 * 1024).optional(),
  rejectUnauthorized: z.boolean().default(true),
  /**
   * Approvers (as named in approval links) whose approve/reject links this webhook may carry, e.g. a bot
   * that messages each approver privately. Links of anyone else are never sent here.
   */
  approvers: z.array(z.string().min(1).max(200)).max(100).default([]),
});
export type WebhookConfig = z.output<typeof webhookConfigSchema>;

export const webhookSecretsSchema = z.strictObject({
  /** HMAC-SHA256 key of the X-Certflow-Signature header. */
  signingSecret: z.string().min(16, 'the signing secret must be at least 16 characters').max(1024).optional(),
  url: httpUrl.optional(),
});
export type WebhookSecrets = z.output<typeof webhookSecretsSchema>;
