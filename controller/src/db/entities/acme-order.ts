import { defineEntity, type InferEntity } from '@mikro-orm/postgresql';
import { CertificateAuthority } from './certificate-authority.js';

/**
 * The ACME order placed for an idempotency key, written (and committed) right after the CA created it
 * and before it is finalized: a controller that dies between ordering and recording the certificate
 * finds the order here and resumes it (downloading the certificate if the CA already issued it) instead
 * of ordering a second one.
 */
export const AcmeOrder = defineEntity({
  name: 'AcmeOrder',
  tableName: 'acme_orders',
  properties: (p) => ({
    ca: p.manyToOne(CertificateAuthority).mapToPk().primary().deleteRule('cascade'),
    idempotencyKey: p.text().primary(),
    orderUrl: p.text(),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
  }),
});
export type AcmeOrder = InferEntity<typeof AcmeOrder>;
