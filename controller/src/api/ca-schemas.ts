// Request and response shapes of the certificate-authority routes (zod only, like schemas.ts: certflowctl
// imports the types and must not load the ORM).
import { z } from 'zod';
import { REVOCATION_REASON_NAMES } from '../issuers/revocation-reasons.js';

const timestamp = z.string().meta({ format: 'date-time', example: '2026-01-31T12:00:00.000Z' });
const KEY_TYPE_NAMES = ['ecdsa-p256', 'ecdsa-p384', 'rsa-2048', 'rsa-3072', 'rsa-4096'] as const;

export const caNameParams = z.strictObject({ name: z.string().min(1).max(100) });

/** `/crl/<name>.crl` and `/ca/<name>.pem`: the file name, extension included. */
export const caFileParams = z.strictObject({ file: z.string().min(1).max(120) });

export const caPolicyResponse = z.object({
  allowedDomains: z.array(z.string()).meta({ description: 'Suffixes or "*.x" patterns the CA may issue for; empty: any' }),
  maxValidityDays: z.int(),
  keyTypes: z.array(z.enum(KEY_TYPE_NAMES)),
});

export const caSummary = z.object({
  name: z.string(),
  kind: z.enum(['internal', 'acme']),
  disabled: z.boolean(),
  createdAt: timestamp,
  policy: caPolicyResponse,
  config: z.record(z.string(), z.unknown()).meta({ description: 'Non-secret settings and facts (fingerprints, expiry of the intermediate)' }),
  health: z.object({ healthy: z.boolean(), detail: z.string() }),
  crlUrl: z.string().nullable().meta({ description: 'Where the CA\'s CRL is published, if it publishes one' }),
  chainUrl: z.string().nullable().meta({ description: 'Where the CA\'s certificates (intermediate, root) are published' }),
});

export const caList = z.object({ items: z.array(caSummary) });

export const revokeBody = z.strictObject({
  serial: z.string().min(1).max(200).meta({ description: 'Hexadecimal, as `openssl x509 -serial` prints it (colons allowed)' }),
  reason: z.enum(REVOCATION_REASON_NAMES).default('unspecified'),
});

export const revocationResponse = z.object({
  ca: z.string(),
  serial: z.string(),
  revokedAt: timestamp,
  reason: z.enum(REVOCATION_REASON_NAMES),
  alreadyRevoked: z.boolean().meta({ description: 'It was revoked before; the first revocation stands' }),
});

export type CaSummary = z.infer<typeof caSummary>;
export type RevocationResponse = z.infer<typeof revocationResponse>;
