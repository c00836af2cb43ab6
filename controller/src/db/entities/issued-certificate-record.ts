import { defineEntity, type InferEntity } from '@mikro-orm/postgresql';
import { CertificateAuthority } from './certificate-authority.js';

/**
 * One request to a CA, keyed by the caller's idempotency key. The row is written (and committed) before
 * the CA signs anything; the certificate fields are filled in once it has. A row without a certificate is
 * an order whose outcome was never recorded: repeating the key re-issues, a recorded one is returned as is.
 */
export const IssuedCertificateRecord = defineEntity({
  name: 'IssuedCertificateRecord',
  tableName: 'issued_certificates',
  properties: (p) => ({
    id: p.uuid().primary(),
    ca: p.manyToOne(CertificateAuthority).mapToPk().deleteRule('cascade'),
    idempotencyKey: p.text(),
    /** SHA-256 of the request (CSR, names, validity): the same key with another request is refused. */
    requestSha256: p.string(),
    names: p.json<string[]>(),
    requestedAt: p.datetime(),
    serialHex: p.string().nullable(),
    notBefore: p.datetime().nullable(),
    notAfter: p.datetime().nullable(),
    fingerprintSha256: p.string().nullable(),
    certificatePem: p.text().nullable(),
    chainPem: p.text().nullable(),
    issuedAt: p.datetime().nullable(),
    revokedAt: p.datetime().nullable(),
    revocationReason: p.string().nullable(),
  }),
  uniques: [
    { properties: ['ca', 'idempotencyKey'] },
    { properties: ['ca', 'serialHex'] },
  ],
  indexes: [
    // The CRL lists a CA's revoked certificates; revocations are few, so index only those rows.
    { name: 'issued_certificates_revoked_index', expression: 'create index "issued_certificates_revoked_index" on "issued_certificates" ("ca_id", "revoked_at") where "revoked_at" is not null' },
  ],
});
export type IssuedCertificateRecord = InferEntity<typeof IssuedCertificateRecord>;
