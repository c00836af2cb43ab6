// Certificates are stored once per SHA-256 fingerprint. This parses DER (never trusting what an agent
// says about it) and upserts in batches, returning the id of each fingerprint.
import type { EntityManager } from '@mikro-orm/postgresql';
import { randomUUID } from 'node:crypto';
import { certificateFacts, type CertificateFacts } from '../../../proto/shared/certificate-facts.js';

const BATCH = 500;

export interface ParsedCertificate {
  der: Buffer;
  facts: CertificateFacts;
}

/** Parses each DER; the ones that fail are returned with the reason instead of stopping the rest. */
export function parseCertificates<T extends { der: Buffer }>(items: T[]): { parsed: (T & { facts: CertificateFacts })[]; rejected: { item: T; reason: string }[] } {
  const parsed: (T & { facts: CertificateFacts })[] = [];
  const rejected: { item: T; reason: string }[] = [];
  for (const item of items) {
    try {
      parsed.push({ ...item, facts: certificateFacts(item.der) });
    } catch (err) {
      rejected.push({ item, reason: (err as Error).message });
    }
  }
  return { parsed, rejected };
}

export async function upsertCertificates(em: EntityManager, certificates: ParsedCertificate[], now: Date): Promise<Map<string, string>> {
  const idByFingerprint = new Map<string, string>();
  const unique = [...new Map(certificates.map((c) => [c.facts.fingerprintSha256, c])).values()];
  for (let i = 0; i < unique.length; i += BATCH) {
    const batch = unique.slice(i, i + BATCH);
    const rows = await em.execute<{ id: string; fingerprint_sha256: string }[]>(
      `insert into certificates (id, fingerprint_sha256, der, subject, issuer, serial_number, sans, search_text,
         not_before, not_after, key_algorithm, key_size, curve, signature_algorithm, self_signed, is_ca, first_seen_at, last_seen_at)
       values ${batch.map(() => '(?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}
       on conflict (fingerprint_sha256) do update set last_seen_at = excluded.last_seen_at
       returning id, fingerprint_sha256`,
      batch.flatMap(({ der, facts: f }) => [
        randomUUID(), f.fingerprintSha256, der, f.subject, f.issuer, f.serialNumber, JSON.stringify(f.sans),
        [f.subject, ...f.sans].join(' ').toLowerCase(), f.notBefore, f.notAfter, f.keyAlgorithm, f.keySize, f.curve,
        f.signatureAlgorithm, f.selfSigned, f.isCa, now, now,
      ]),
      'all',
    );
    for (const row of rows) idByFingerprint.set(row.fingerprint_sha256, row.id);
  }
  return idByFingerprint;
}
