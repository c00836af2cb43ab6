import { defineEntity, type InferEntity } from '@mikro-orm/postgresql';
import { Agent } from './agent.js';
import { Certificate } from './certificate.js';

/**
 * Where a certificate was found: an agent, a file and the certificate's position in it. A location that
 * disappears from a full inventory report gets `removedAt`; if it comes back the same row is reused.
 */
export const CertificateLocation = defineEntity({
  name: 'CertificateLocation',
  tableName: 'certificate_locations',
  properties: (p) => ({
    id: p.uuid().primary(),
    certificate: p.manyToOne(Certificate).mapToPk().deleteRule('cascade').index(),
    agent: p.manyToOne(Agent).mapToPk().deleteRule('cascade').index(),
    path: p.text(),
    position: p.integer(),
    format: p.string(),
    /** Where a matching private key was found on the host (never the key itself). */
    keyPath: p.text().nullable(),
    firstSeenAt: p.datetime(),
    lastSeenAt: p.datetime(),
    removedAt: p.datetime().nullable(),
  }),
  uniques: [{ properties: ['agent', 'path', 'position', 'certificate'] }],
  indexes: [
    // Most queries want only current locations; this keeps "certificates with a current location" cheap.
    { name: 'certificate_locations_current', expression: 'create index "certificate_locations_current" on "certificate_locations" ("certificate_id") where "removed_at" is null' },
  ],
});
export type CertificateLocation = InferEntity<typeof CertificateLocation>;
