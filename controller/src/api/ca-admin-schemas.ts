// Request and response shapes of adding and changing CAs (POST /api/v1/cas, PUT /api/v1/cas/:name). Zod
// only (certflowctl imports the types and must not load the ORM). The API's ACME config is the stored one
// (issuers/acme/acme-config.ts) with its secrets written where an operator thinks of them: the EAB HMAC
// key next to its key id (`eab: {keyId, hmacKey}`), the TSIG secret in its rfc2136 provider. The server
// splits them off and seals them; no response ever carries them back.
import { z } from 'zod';
import { acmeChallengeSchema, acmeConfigSchema, execDnsProviderSchema, rfc2136DnsProviderSchema } from '../issuers/acme/acme-config.js';

const timestamp = z.string().meta({ format: 'date-time', example: '2026-01-31T12:00:00.000Z' });
const KEY_TYPE_NAMES = ['ecdsa-p256', 'ecdsa-p384', 'rsa-2048', 'rsa-3072', 'rsa-4096'] as const;

/** Templates name CAs by it, and it is part of URLs: a DNS-label-like slug. */
export const CA_NAME_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

const secret = (what: string) => z.string().min(1).max(1000).meta({ description: `${what}; write-only: sealed, never returned` });
const base64url = z.string().min(1).max(1000).regex(/^[A-Za-z0-9_-]+=*$/, 'expected base64url (as the CA hands it out)');

const rfc2136WithSecret = rfc2136DnsProviderSchema.extend({
  tsigSecret: secret('base64 TSIG secret').optional(),
});
const [dns01, http01] = acmeChallengeSchema.options;
const challengeBody = z.discriminatedUnion('type', [
  dns01.extend({ provider: z.discriminatedUnion('kind', [execDnsProviderSchema, rfc2136WithSecret]) }),
  http01,
]);
export type AcmeChallengeBody = z.input<typeof challengeBody>;

const stored = acmeConfigSchema.shape;

/** The whole ACME config, secrets included (create). */
export const acmeConfigBody = acmeConfigSchema.omit({ eabKeyId: true, challenge: true }).extend({
  eab: z.strictObject({
    keyId: stored.eabKeyId.unwrap(),
    hmacKey: base64url.meta({ description: 'base64url HMAC key; write-only: sealed, never returned' }),
  }).optional().meta({ description: 'External account binding (ZeroSSL, Google, private CAs)' }),
  challenge: challengeBody,
});
export type AcmeConfigBody = z.input<typeof acmeConfigBody>;

/**
 * Changes to an ACME config (update): only the settings given change; `null` removes an optional one
 * (`eab`, `trustPem`). A `challenge` given replaces the whole challenge. Secrets left out are kept.
 */
export const acmeConfigPatch = z.strictObject({
  directoryUrl: stored.directoryUrl.optional(),
  contact: stored.contact.removeDefault().optional(),
  eab: z.strictObject({
    keyId: stored.eabKeyId.unwrap(),
    hmacKey: base64url.optional().meta({ description: 'left out: the stored one is kept (only allowed while keyId stays the same)' }),
  }).nullable().optional(),
  trustPem: stored.trustPem.unwrap().nullable().optional(),
  challenge: challengeBody.optional(),
  maxConcurrentOrders: stored.maxConcurrentOrders.removeDefault().optional(),
  maxRetryAfterSeconds: stored.maxRetryAfterSeconds.removeDefault().optional(),
  orderTimeoutSeconds: stored.orderTimeoutSeconds.removeDefault().optional(),
});
export type AcmeConfigPatch = z.infer<typeof acmeConfigPatch>;
export type AcmeConfigPatchInput = z.input<typeof acmeConfigPatch>;

export const caPolicyBody = z.strictObject({
  allowedDomains: z.array(z.string().min(1).max(253)).default([])
    .meta({ description: 'Suffixes or "*.x" patterns the CA may issue for; empty: any' }),
  maxValidityDays: z.int().min(1).max(3650),
  keyTypes: z.array(z.enum(KEY_TYPE_NAMES)).min(1),
});

/** A new CA's policy when none is given: any name, 90 days, every key type. */
export const DEFAULT_ACME_POLICY = { allowedDomains: [], maxValidityDays: 90, keyTypes: [...KEY_TYPE_NAMES] };

function requireTsigSecret(challenge: AcmeChallengeBody | undefined, ctx: z.RefinementCtx, path: PropertyKey[]): void {
  if (challenge?.type === 'dns-01' && challenge.provider.kind === 'rfc2136' && !challenge.provider.tsigSecret) {
    ctx.addIssue({ code: 'custom', path: [...path, 'challenge', 'provider', 'tsigSecret'], message: 'the rfc2136 DNS provider needs its TSIG secret' });
  }
}

export const createCaBody = z.strictObject({
  name: z.string().regex(CA_NAME_PATTERN, 'expected a lower-case slug: letters, digits and "-", at most 63'),
  kind: z.literal('acme', {
    error: 'only ACME CAs can be added ("acme"): the built-in CA is made by the controller itself',
  }),
  config: acmeConfigBody,
  policy: caPolicyBody.default(() => ({ ...DEFAULT_ACME_POLICY, keyTypes: [...DEFAULT_ACME_POLICY.keyTypes] })),
  disabled: z.boolean().default(false),
}).superRefine((body, ctx) => requireTsigSecret(body.config.challenge, ctx, ['config']));
export type CreateCaBody = z.input<typeof createCaBody>;

export const updateCaBody = z.strictObject({
  kind: z.enum(['internal', 'acme']).optional().meta({ description: 'If given, must be the CA\'s kind: a CA\'s kind never changes' }),
  config: acmeConfigPatch.optional().meta({ description: 'ACME CAs only: the settings to change' }),
  policy: caPolicyBody.optional().meta({ description: 'The whole new policy' }),
  disabled: z.boolean().optional(),
}).refine((body) => body.config !== undefined || body.policy !== undefined || body.disabled !== undefined,
  { message: 'nothing to change: give config, policy or disabled' });
export type UpdateCaBody = z.input<typeof updateCaBody>;

export const createCaQuery = z.strictObject({
  check: z.enum(['true', 'false']).default('false').transform((v) => v === 'true')
    .meta({ description: 'Fetch the CA\'s directory first; 422 with the CA\'s error if it cannot be used' }),
});

/** A CA as saved: never its secrets, only which ones are set. */
export const caSaved = z.object({
  name: z.string(),
  kind: z.enum(['internal', 'acme']),
  disabled: z.boolean(),
  createdAt: timestamp,
  policy: caPolicyBody,
  config: z.record(z.string(), z.unknown()).meta({ description: 'Non-secret settings' }),
  secretsSet: z.array(z.enum(['eabHmacKey', 'tsigSecret'])).meta({ description: 'Which secrets are stored (their values are never returned)' }),
  result: z.enum(['created', 'updated', 'unchanged']),
  health: z.object({ healthy: z.boolean(), detail: z.string() }).nullable()
    .meta({ description: 'With ?check=true: the CA\'s health right after saving' }),
});
export type CaSaved = z.infer<typeof caSaved>;
