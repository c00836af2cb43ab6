// Applies one complete inventory report from an agent, in one transaction. Certificates are parsed here
// from their DER (nothing the agent claims about them is trusted) and upserted by fingerprint; locations
// are upserted by (agent, path, position, certificate). For a full report, every location of the agent
// not in the report is marked removed, so the inventory mirrors the host and history is kept.
import type { EntityManager } from '@mikro-orm/postgresql';
import { randomUUID } from 'node:crypto';
import { certificateFacts, type CertificateFacts } from '../../../proto/shared/certificate-facts.js';

export interface ReportedOccurrence {
  path: string;
  index: number;
  format: string;
  der: Buffer;
}

export interface ReportedProblem {
  path: string;
  message: string;
}

export interface InventoryResult {
  certificates: number;
  locations: number;
  removed: number;
  problems: ReportedProblem[];
}

const BATCH = 500;
const MAX_PROBLEMS_KEPT = 200;

export async function applyInventory(
  em: EntityManager,
  agentId: string,
  report: { full: boolean; occurrences: ReportedOccurrence[]; problems: ReportedProblem[] },
  now = new Date(),
): Promise<InventoryResult> {
  const problems = report.problems.slice(0, MAX_PROBLEMS_KEPT);
  const parsed: { occurrence: ReportedOccurrence; facts: CertificateFacts }[] = [];
  for (const occurrence of report.occurrences) {
    try {
      parsed.push({ occurrence, facts: certificateFacts(occurrence.der) });
    } catch (err) {
      // An agent that sends garbage loses only that entry; the rest of the report still applies.
      if (problems.length < MAX_PROBLEMS_KEPT) problems.push({ path: occurrence.path, message: `rejected by controller: ${(err as Error).message}` });
    }
  }

  return em.transactional(async (tx) => {
    const conn = tx.getConnection();
    const idByFingerprint = new Map<string, string>();
    const unique = [...new Map(parsed.map((p) => [p.facts.fingerprintSha256, p])).values()];
    for (let i = 0; i < unique.length; i += BATCH) {
      const batch = unique.slice(i, i + BATCH);
      const rows = await conn.execute<{ id: string; fingerprint_sha256: string }[]>(
        `insert into certificates (id, fingerprint_sha256, der, subject, issuer, serial_number, sans, search_text,
           not_before, not_after, key_algorithm, key_size, curve, signature_algorithm, self_signed, is_ca, first_seen_at, last_seen_at)
         values ${batch.map(() => '(?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}
         on conflict (fingerprint_sha256) do update set last_seen_at = excluded.last_seen_at
         returning id, fingerprint_sha256`,
        batch.flatMap(({ occurrence, facts: f }) => [
          randomUUID(), f.fingerprintSha256, occurrence.der, f.subject, f.issuer, f.serialNumber, JSON.stringify(f.sans),
          [f.subject, ...f.sans].join(' ').toLowerCase(), f.notBefore, f.notAfter, f.keyAlgorithm, f.keySize, f.curve,
          f.signatureAlgorithm, f.selfSigned, f.isCa, now, now,
        ]),
        'all',
      );
      for (const row of rows) idByFingerprint.set(row.fingerprint_sha256, row.id);
    }

    const locations = [...new Map(parsed.map(({ occurrence: o, facts }) =>
      [`${o.path}\u0000${o.index}\u0000${facts.fingerprintSha256}`, { o, certificateId: idByFingerprint.get(facts.fingerprintSha256)! }])).values()];
    for (let i = 0; i < locations.length; i += BATCH) {
      const batch = locations.slice(i, i + BATCH);
      await conn.execute(
        `insert into certificate_locations (id, certificate_id, agent_id, path, position, format, first_seen_at, last_seen_at, removed_at)
         values ${batch.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, null)').join(', ')}
         on conflict (agent_id, path, position, certificate_id)
         do update set last_seen_at = excluded.last_seen_at, format = excluded.format, removed_at = null`,
        batch.flatMap(({ o, certificateId }) => [randomUUID(), certificateId, agentId, o.path, o.index, o.format, now, now]),
        'run',
      );
    }

    let removed = 0;
    if (report.full) {
      const result = await conn.execute(
        'update certificate_locations set removed_at = ? where agent_id = ? and removed_at is null and last_seen_at < ?',
        [now, agentId, now], 'run');
      removed = (result as { affectedRows?: number }).affectedRows ?? 0;
    }
    await conn.execute(
      'update agents set last_inventory_at = ?, last_seen_at = ?, scan_problems = ?::jsonb where id = ?',
      [now, now, JSON.stringify(problems), agentId], 'run');
    return { certificates: idByFingerprint.size, locations: locations.length, removed, problems };
  });
}
