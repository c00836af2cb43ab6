import { defineEntity, type InferEntity } from '@mikro-orm/postgresql';

/**
 * A certificate seen anywhere in the fleet, once per SHA-256 fingerprint. Every field is parsed by the
 * controller from `der`, never taken from what an agent claims.
 */
export const Certificate = defineEntity({
  name: 'Certificate',
  tableName: 'certificates',
  properties: (p) => ({
    id: p.uuid().primary(),
    fingerprintSha256: p.string().unique(),
    der: p.blob().lazy(),
    subject: p.text(),
    issuer: p.text(),
    serialNumber: p.string(),
    sans: p.json<string[]>(),
    /** Subject and SANs lower-cased in one string, for the text filter. */
    searchText: p.text().lazy(),
    notBefore: p.datetime().index(),
    notAfter: p.datetime().index(),
    keyAlgorithm: p.string(),
    keySize: p.integer().nullable(),
    curve: p.string().nullable(),
    signatureAlgorithm: p.string(),
    selfSigned: p.boolean(),
    isCa: p.boolean(),
    firstSeenAt: p.datetime(),
    lastSeenAt: p.datetime(),
  }),
  indexes: [
    // Auto-adoption walks the inventory in first-seen order from a cursor.
    { properties: ['firstSeenAt', 'id'] },
    // Substring search over subject and SANs (the `q` filter) stays fast at a million certificates.
    { name: 'certificates_search_text_trgm', expression: 'create index "certificates_search_text_trgm" on "certificates" using gin ("search_text" gin_trgm_ops)' },
  ],
});
export type Certificate = InferEntity<typeof Certificate>;
