// Applies one complete inventory report from an agent, in one transaction. A full report mirrors the
// host: every location of the agent not in it is marked removed. A delta report names what is gone
// (`removed`) and carries only added or changed occurrences. Keystores, bindings and endpoints replace
// the controller's copy when included. History is kept: rows are marked removed, never deleted.
import type { EntityManager } from '@mikro-orm/postgresql';
import { randomUUID } from 'node:crypto';
import type { Keystore__Output } from '../../../proto/generated/certflow/agent/v1/Keystore.js';
import type { ServiceBinding__Output } from '../../../proto/generated/certflow/agent/v1/ServiceBinding.js';
import type { EndpointObservation__Output } from '../../../proto/generated/certflow/agent/v1/EndpointObservation.js';
import { parseCertificates, upsertCertificates } from './upsert-certificates.js';
import { applyBindings, applyEndpoints, applyKeystores } from './apply-discoveries.js';

export interface ReportedOccurrence {
  path: string;
  index: number;
  format: string;
  der: Buffer;
  keyPath?: string;
}

export interface ReportedProblem {
  path: string;
  message: string;
}

export interface InventoryReportInput {
  full: boolean;
  occurrences: ReportedOccurrence[];
  problems: ReportedProblem[];
  removed?: { path: string; index: number }[];
  keystores?: Keystore__Output[];
  bindings?: ServiceBinding__Output[];
  endpoints?: EndpointObservation__Output[];
}

export interface InventoryResult {
  certificates: number;
  locations: number;
  removed: number;
  problems: ReportedProblem[];
}

const BATCH = 500;
const MAX_PROBLEMS_KEPT = 200;

export async function applyInventory(em: EntityManager, agentId: string, report: InventoryReportInput, now = new Date()): Promise<InventoryResult> {
  const problems = report.problems.slice(0, MAX_PROBLEMS_KEPT);
  const { parsed, rejected } = parseCertificates(report.occurrences);
  for (const { item, reason } of rejected) {
    // An agent that sends garbage loses only that entry; the rest of the report still applies.
    if (problems.length < MAX_PROBLEMS_KEPT) problems.push({ path: item.path, message: `rejected by controller: ${reason}` });
  }

  return em.transactional(async (tx) => {
    let removed = 0;
    // Removals first, so a changed file's new certificate (same path and index) is then added cleanly.
    for (let i = 0; report.removed && i < report.removed.length; i += BATCH) {
      const batch = report.removed.slice(i, i + BATCH);
      const result = await tx.execute(
        `update certificate_locations set removed_at = ? where agent_id = ? and removed_at is null
           and (path, position) in (${batch.map(() => '(?, ?)').join(', ')})`,
        [now, agentId, ...batch.flatMap((r) => [r.path, r.index])], 'run');
      removed += (result as { affectedRows?: number }).affectedRows ?? 0;
    }

    const idByFingerprint = await upsertCertificates(tx, parsed, now);
    const locations = [...new Map(parsed.map((o) => [`${o.path}\u0000${o.index}\u0000${o.facts.fingerprintSha256}`, o])).values()];
    for (let i = 0; i < locations.length; i += BATCH) {
      const batch = locations.slice(i, i + BATCH);
      await tx.execute(
        `insert into certificate_locations (id, certificate_id, agent_id, path, position, format, key_path, first_seen_at, last_seen_at, removed_at)
         values ${batch.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, null)').join(', ')}
         on conflict (agent_id, path, position, certificate_id)
         do update set last_seen_at = excluded.last_seen_at, format = excluded.format, key_path = excluded.key_path, removed_at = null`,
        batch.flatMap((o) => [randomUUID(), idByFingerprint.get(o.facts.fingerprintSha256)!, agentId, o.path, o.index, o.format,
          o.keyPath || null, now, now]),
        'run',
      );
    }

    if (report.full) {
      const result = await tx.execute(
        'update certificate_locations set removed_at = ? where agent_id = ? and removed_at is null and last_seen_at < ?',
        [now, agentId, now], 'run');
      removed += (result as { affectedRows?: number }).affectedRows ?? 0;
    }
    if (report.keystores) await applyKeystores(tx, agentId, report.keystores, now);
    if (report.bindings) await applyBindings(tx, agentId, report.bindings, now);
    if (report.endpoints) await applyEndpoints(tx, agentId, report.endpoints, now);
    await tx.execute(
      'update agents set last_inventory_at = ?, last_seen_at = ?, scan_problems = ?::jsonb where id = ?',
      [now, now, JSON.stringify(problems), agentId], 'run');
    return { certificates: idByFingerprint.size, locations: locations.length, removed, problems };
  });
}
