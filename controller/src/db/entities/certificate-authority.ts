import { defineEntity, type InferEntity } from '@mikro-orm/postgresql';

export const CA_KINDS = ['internal', 'acme'] as const;
export type CaKind = (typeof CA_KINDS)[number];

export const KEY_TYPES = ['ecdsa-p256', 'ecdsa-p384', 'rsa-2048', 'rsa-3072', 'rsa-4096'] as const;
export type KeyType = (typeof KEY_TYPES)[number];

/** What a CA may issue. Checked by the issuer itself, so no caller can skip it. */
export interface CaPolicy {
  /** Suffixes (`example.com` covers it and every name below it) or `*.x` patterns (one label under x); empty = any. */
  allowedDomains: string[];
  maxValidityDays: number;
  keyTypes: KeyType[];
}

/**
 * A certificate authority certflow can issue from: the built-in CA or (later) an ACME connection.
 * `config` holds non-secret settings only; keys live sealed in `secrets` (see issuers/internal/).
 */
export const CertificateAuthority = defineEntity({
  name: 'CertificateAuthority',
  tableName: 'certificate_authorities',
  properties: (p) => ({
    id: p.uuid().primary(),
    /** A slug; templates name CAs by it. */
    name: p.text().unique(),
    kind: p.enum([...CA_KINDS]),
    config: p.json<Record<string, unknown>>(),
    policy: p.json<CaPolicy>(),
    createdAt: p.datetime(),
    disabled: p.boolean().default(false),
  }),
});
export type CertificateAuthority = InferEntity<typeof CertificateAuthority>;
