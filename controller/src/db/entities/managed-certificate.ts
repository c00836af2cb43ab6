import { defineEntity, type InferEntity } from '@mikro-orm/postgresql';

export const MANAGED_CERTIFICATE_STATES = ['active', 'paused', 'retired'] as const;
export type ManagedCertificateState = (typeof MANAGED_CERTIFICATE_STATES)[number];

/** A deployment target declared on one managed certificate (beside its template's and its discovered ones). */
export interface DeclaredTargetRecord {
  agentId: string;
  kind: 'nginx' | 'apache' | 'haproxy' | 'file' | 'pkcs12';
  options: Record<string, unknown>;
  endpoints?: { host: string; port: number; serverName?: string }[];
}

/**
 * A certificate certflow renews: adopted from the inventory (by an operator or a template's match rules)
 * or declared new. The scheduler starts a run when `renewAfter` has passed; the run updates `current*`.
 */
export const ManagedCertificate = defineEntity({
  name: 'ManagedCertificate',
  tableName: 'managed_certificates',
  properties: (p) => ({
    id: p.uuid().primary(),
    name: p.string().unique(),
    templateId: p.uuid().index(),
    dnsNames: p.json<string[]>(),
    ipAddresses: p.json<string[]>(),
    labels: p.json<Record<string, string>>(),
    targets: p.json<DeclaredTargetRecord[]>(),
    state: p.enum([...MANAGED_CERTIFICATE_STATES]),
    /** 'operator:<token id>' or 'template:<name>' — who put it under management. */
    adoptedBy: p.string(),
    /** The inventory certificate it was adopted from; null for a declared one. */
    sourceCertificateId: p.uuid().nullable(),
    currentFingerprintSha256: p.string().nullable(),
    currentNotBefore: p.datetime().nullable(),
    currentNotAfter: p.datetime().nullable(),
    /** When the scheduler should start a renewal (window start with jitter); null = not scheduled. */
    renewAfter: p.datetime().nullable(),
    /** The template version renewAfter was computed with: a new template version recomputes it. */
    renewalComputedWithVersion: p.integer().nullable(),
    ariWindowStart: p.datetime().nullable(),
    ariWindowEnd: p.datetime().nullable(),
    /** The CA that issued the current certificate (when certflow issued it) and the certificate (public): for ARI. */
    currentCa: p.string().nullable(),
    currentCertificatePem: p.text().nullable(),
    /** When to ask the CA for its renewal window again (its Retry-After); null: the CA offers none. */
    ariNextCheckAt: p.datetime().nullable(),
    consecutiveFailures: p.integer(),
    backoffUntil: p.datetime().nullable(),
    lastRunId: p.uuid().nullable(),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
  }),
  indexes: [
    // The scheduler's sweep: active certificates whose window has opened, oldest first.
    // Finding certificates whose renewal time was computed with an older template version.
    { name: 'managed_certificates_template_version', properties: ['templateId', 'renewalComputedWithVersion'] },
    { name: 'managed_certificates_ari_due', expression: 'create index "managed_certificates_ari_due" on "managed_certificates" ("ari_next_check_at") where "ari_next_check_at" is not null' },
    { name: 'managed_certificates_due', expression: 'create index "managed_certificates_due" on "managed_certificates" ("renew_after") where "state" = \'active\'' },
  ],
  uniques: [
    { name: 'managed_certificates_source_unique', expression: 'create unique index "managed_certificates_source_unique" on "managed_certificates" ("source_certificate_id") where "source_certificate_id" is not null and "state" <> \'retired\'' },
  ],
});
export type ManagedCertificate = InferEntity<typeof ManagedCertificate>;
