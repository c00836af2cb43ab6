// Finding issuers by name. A CA row says which implementation serves it (`kind`); this module turns the
// row into that implementation: `factories` has one per kind.
import type { EntityManager } from '@mikro-orm/postgresql';
import { CertificateAuthority, type CaKind, type CaPolicy } from '../db/entities/certificate-authority.js';
import type { SecretBox } from '../crypto/master-key.js';
import { AcmeIssuer } from './acme/acme-issuer.js';
import { parseCaPolicy } from './ca-policy.js';
import { InternalIssuer } from './internal/internal-issuer.js';
import type { Issuer } from './issuer.js';

export interface IssuerOptions {
  /** The controller's public base URL (config `publicUrl`): certificates name their CRL under it. */
  publicUrl?: string;
}

export class UnknownIssuerError extends Error {
  override name = 'UnknownIssuerError';
}

export interface CertificateAuthoritySummary {
  id: string;
  name: string;
  kind: CaKind;
  policy: CaPolicy;
  /** Non-secret settings and facts (for the built-in CA: fingerprints, the intermediate's expiry). */
  config: Record<string, unknown>;
  disabled: boolean;
  createdAt: Date;
}

type IssuerFactory = (em: EntityManager, box: SecretBox, ca: CertificateAuthoritySummary, options: IssuerOptions) => Issuer;

const factories: Record<CaKind, IssuerFactory | null> = {
  internal: (em, box, ca, options) => new InternalIssuer(em, box, ca, options),
  acme: (em, box, ca) => new AcmeIssuer(em, box, ca),
};

function summary(row: CertificateAuthority, policy: CaPolicy): CertificateAuthoritySummary {
  return { id: row.id, name: row.name, kind: row.kind, policy, config: row.config, disabled: row.disabled, createdAt: row.createdAt };
}

/**
 * Every CA, by name, with its policy as stored: a CA whose policy does not parse is still listed (loading
 * its issuer fails and says why), so one broken row does not hide the others.
 */
export async function listCertificateAuthorities(em: EntityManager): Promise<CertificateAuthoritySummary[]> {
  const rows = await em.fork().find(CertificateAuthority, {}, { orderBy: { name: 'asc' }, disableIdentityMap: true });
  return rows.map((row) => summary(row, row.policy));
}

/** The issuer for CA `name`; UnknownIssuerError when there is no such CA or its kind has no implementation yet. */
export async function loadIssuer(em: EntityManager, box: SecretBox, name: string, options: IssuerOptions = {}): Promise<Issuer> {
  const row = await em.fork().findOne(CertificateAuthority, { name }, { disableIdentityMap: true });
  if (!row) throw new UnknownIssuerError(`no certificate authority named "${name}"`);
  const factory = factories[row.kind];
  if (!factory) throw new UnknownIssuerError(`CA "${name}" is of kind "${row.kind}", which this controller cannot issue from yet`);
  return factory(em, box, summary(row, parseCaPolicy(name, row.policy)), options);
}
