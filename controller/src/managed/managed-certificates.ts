// Putting certificates under management: adopting one from the inventory (an operator, or a template's
// match rules) or declaring a new one (names, template, targets). Adoption copies the names and validity
// from the inventory row, which the controller parsed itself; the renewal time is computed here.
import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { appendAudit } from '../audit/audit-trail.js';
import { ManagedCertificate, type DeclaredTargetRecord } from '../db/entities/managed-certificate.js';
import { computeRenewAfter } from '../scheduler/renewal-window.js';
import { getTemplateVersion } from '../templates/template-store.js';

export class ManagedCertificateError extends Error {
  override name = 'ManagedCertificateError';
  constructor(message: string, readonly status: 400 | 404 | 409, readonly field?: string) {
    super(message);
  }
}

export interface InventoryCertificateFacts {
  id: string;
  fingerprintSha256: string;
  subject: string;
  issuer: string;
  sans: string[];
  notBefore: Date;
  notAfter: Date;
  isCa: boolean;
}

/** The CN of a subject DN as the inventory stores it ("CN=a, O=b"), or null. */
export function commonNameOf(subject: string): string | null {
  return /(?:^|,\s*)CN=([^,]+)/.exec(subject)?.[1]?.trim() ?? null;
}

export function dnsNamesOf(cert: Pick<InventoryCertificateFacts, 'sans' | 'subject'>): string[] {
  const dns = cert.sans.filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4).toLowerCase());
  if (dns.length > 0) return [...new Set(dns)];
  const cn = commonNameOf(cert.subject)?.toLowerCase();
  return cn && /^(\*\.)?[a-z0-9_-]+(\.[a-z0-9_-]+)+$/.test(cn) ? [cn] : [];
}

export function ipAddressesOf(cert: Pick<InventoryCertificateFacts, 'sans'>): string[] {
  return cert.sans.filter((s) => s.startsWith('IP:')).map((s) => s.slice(3));
}

export async function loadInventoryCertificate(em: EntityManager, idOrFingerprint: string): Promise<InventoryCertificateFacts | null> {
  const fp = idOrFingerprint.replaceAll(':', '').toLowerCase();
  const byId = /^[0-9a-f-]{36}$/.test(idOrFingerprint);
  const [row] = await em.execute<{ id: string; fingerprint_sha256: string; subject: string; issuer: string; sans: string[]; not_before: string | Date; not_after: string | Date; is_ca: boolean }[]>(
    `select id, fingerprint_sha256, subject, issuer, sans, not_before, not_after, is_ca from certificates where ${byId ? 'id = ?' : 'fingerprint_sha256 = ?'}`,
    [byId ? idOrFingerprint : fp]);
  if (!row) return null;
  return {
    id: row.id, fingerprintSha256: row.fingerprint_sha256, subject: row.subject, issuer: row.issuer, sans: row.sans,
    notBefore: new Date(row.not_before), notAfter: new Date(row.not_after), isCa: row.is_ca,
  };
}

/** Adopts an inventory certificate. Refuses CA certificates, certificates without a DNS name, and ones already managed. */
export async function adoptCertificate(
  tx: EntityManager,
  input: { certificate: InventoryCertificateFacts; templateId: string; name?: string; labels?: Record<string, string>; targets?: DeclaredTargetRecord[]; adoptedBy: string },
  now: Date,
): Promise<ManagedCertificate | null> {
  const cert = input.certificate;
  if (cert.isCa) throw new ManagedCertificateError('a CA certificate cannot be managed as a server certificate', 400, 'certificate');
  const dnsNames = dnsNamesOf(cert);
  if (dnsNames.length === 0) throw new ManagedCertificateError('the certificate has no DNS name to renew it for', 400, 'certificate');
  const template = await getTemplateVersion(tx, input.templateId);
  const renewAfter = computeRenewAfter({ notBefore: cert.notBefore, notAfter: cert.notAfter, renewal: template.document.renewal, random: Math.random });
  const id = randomUUID();
  const name = input.name ?? `${dnsNames[0]}-${cert.fingerprintSha256.slice(0, 8)}`;
  const inserted = await tx.execute<{ id: string }[]>(
    `insert into managed_certificates (id, name, template_id, dns_names, ip_addresses, labels, targets, state, adopted_by, source_certificate_id,
       current_fingerprint_sha256, current_not_before, current_not_after, renew_after, renewal_computed_with_version, consecutive_failures, created_at, updated_at)
     values (?, ?, ?, ?::jsonb, ?::jsonb, ?::jsonb, ?::jsonb, 'active', ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)
     on conflict do nothing returning id`,
    [id, name, input.templateId, JSON.stringify(dnsNames), JSON.stringify(ipAddressesOf(cert)), JSON.stringify(input.labels ?? {}), JSON.stringify(input.targets ?? []),
      input.adoptedBy, cert.id, cert.fingerprintSha256, cert.notBefore, cert.notAfter, renewAfter, template.version, now, now]);
  if (inserted.length === 0) return null;
  await appendAudit(tx, { actor: input.adoptedBy, action: 'managed-certificate.adopted', targetType: 'managed_certificate', targetId: id,
    after: { name, dnsNames, template: template.name, templateVersion: template.version, fingerprintSha256: cert.fingerprintSha256 } });
  return tx.findOneOrFail(ManagedCertificate, { id });
}

/** Declares a certificate that does not exist yet: it is due at once. */
export async function declareCertificate(
  tx: EntityManager,
  input: { name: string; templateId: string; dnsNames: string[]; ipAddresses?: string[]; labels?: Record<string, string>; targets: DeclaredTargetRecord[]; adoptedBy: string },
  now: Date,
): Promise<ManagedCertificate> {
  const template = await getTemplateVersion(tx, input.templateId);
  if (input.targets.length === 0 && template.document.deploy.targets.length === 0) {
    throw new ManagedCertificateError('a new certificate needs at least one deployment target (here or in its template): the key is made on a target host', 400, 'targets');
  }
  const [clash] = await tx.execute<{ id: string }[]>('select id from managed_certificates where name = ?', [input.name]);
  if (clash) throw new ManagedCertificateError(`a managed certificate named ${input.name} already exists`, 409, 'name');
  const managed = tx.create(ManagedCertificate, {
    id: randomUUID(), name: input.name, templateId: input.templateId, dnsNames: [...new Set(input.dnsNames.map((n) => n.toLowerCase()))],
    ipAddresses: input.ipAddresses ?? [], labels: input.labels ?? {}, targets: input.targets, state: 'active', adoptedBy: input.adoptedBy,
    sourceCertificateId: null, currentFingerprintSha256: null, currentNotBefore: null, currentNotAfter: null,
    renewAfter: now, renewalComputedWithVersion: template.version, ariWindowStart: null, ariWindowEnd: null,
    consecutiveFailures: 0, backoffUntil: null, lastRunId: null, createdAt: now, updatedAt: now,
  });
  await tx.flush();
  await appendAudit(tx, { actor: input.adoptedBy, action: 'managed-certificate.declared', targetType: 'managed_certificate', targetId: managed.id,
    after: { name: managed.name, dnsNames: managed.dnsNames, template: template.name, targets: input.targets.length } });
  return managed;
}
