// Finding issuers by name. A CA row says which implementation serves it (`kind`); this module turns the
// row into that implementation: `factories` has one per kind.
import type { EntityManager } from '@mikro-orm/postgresql';
import { CertificateAuthority, type CaKind, type CaPolicy } from '../db/entities/certificate-authority.js';
import type { SecretBox } from '../crypto/master-key.js';
import { acmeSecretsName } from './acme/acme-config.js';
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

/** What loadIssuer read of a CA: its row and, for an ACME CA, its sealed operator secrets (null: none). */
interface LoadedCa extends CertificateAuthoritySummary {
  sealedSecrets: Buffer | null;
}

type IssuerFactory = (em: EntityManager, box: SecretBox, ca: LoadedCa, options: IssuerOptions) => Issuer;

const factories: Record<CaKind, IssuerFactory | null> = {
  internal: (em, box, { sealedSecrets: _none, ...ca }, options) => new InternalIssuer(em, box, ca, options),
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

interface CaRow {
  id: string;
  name: string;
  kind: CaKind;
  config: Record<string, unknown>;
  policy: unknown;
  disabled: boolean;
  created_at: Date;
  sealed_secrets: Buffer | null;
}

// The parsed policy per CA id, with the stored text it was parsed from: used while that text is the same.
const parsedPolicies = new Map<string, { text: string; policy: CaPolicy }>();

function policyOf(row: CaRow): CaPolicy {
  const text = JSON.stringify(row.policy);
  const known = parsedPolicies.get(row.id);
  if (known?.text === text) return known.policy;
  const policy = parseCaPolicy(row.name, row.policy);
  parsedPolicies.set(row.id, { text, policy });
  return policy;
}

/**
 * The issuer for CA `name`; UnknownIssuerError when there is no such CA or its kind has no implementation yet.
 * Called on every stage call that issues: one query reads the row and an ACME CA's sealed secrets, read
 * fresh each time so a changed or disabled CA takes effect at once (opening them is cached on their bytes).
 */
export async function loadIssuer(em: EntityManager, box: SecretBox, name: string, options: IssuerOptions = {}): Promise<Issuer> {
  const [row] = await em.getConnection().execute<CaRow[]>(
    `select ca.id, ca.name, ca.kind, ca.config, ca.policy, ca.disabled, ca.created_at, s.sealed as sealed_secrets
     from certificate_authorities ca left join secrets s on ca.kind = 'acme' and s.name = ?
     where ca.name = ?`, [acmeSecretsName(name), name]);
  if (!row) throw new UnknownIssuerError(`no certificate authority named "${name}"`);
  const factory = factories[row.kind];
  if (!factory) throw new UnknownIssuerError(`CA "${name}" is of kind "${row.kind}", which this controller cannot issue from yet`);
  return factory(em, box, {
    id: row.id, name: row.name, kind: row.kind, policy: policyOf(row), config: row.config, disabled: row.disabled,
    createdAt: new Date(row.created_at), sealedSecrets: row.sealed_secrets ? Buffer.from(row.sealed_secrets) : null,
  }, options);
}
