// Findings: what an operator should look at, derived from the inventory on request. Each finding is one
// certificate (or keystore) and a kind, with every place it occurs: hosts and paths, or endpoints.
import type { EntityManager } from '@mikro-orm/postgresql';
import { FINDING_KINDS, findingQueries, type FindingKind, type FindingRow } from './finding-queries.js';

export interface FindingPlace {
  agentId: string;
  agentName: string;
  path: string | null;
  endpoint: { host: string; port: number; serverName: string | null } | null;
  detail: string;
}

export interface Finding {
  kind: FindingKind;
  certificateId: string | null;
  subject: string | null;
  notAfter: string | null;
  places: FindingPlace[];
}

/** At most this many places per kind are read; a fleet with more has bigger problems than this list. */
const MAX_ROWS_PER_KIND = 20_000;

export async function findFindings(
  em: EntityManager,
  options: { kinds?: FindingKind[]; expiringWithinDays: number; agentId?: string; now?: Date },
): Promise<Finding[]> {
  const now = options.now ?? new Date();
  const horizon = new Date(now.getTime() + options.expiringWithinDays * 86_400_000);
  const knex = em.getKnex();
  const findings: Finding[] = [];
  for (const kind of options.kinds?.length ? options.kinds : FINDING_KINDS) {
    const agentFilter = options.agentId ? ' where f.agent_id = :agentId' : '';
    const { rows } = (await knex.raw(`select * from (${findingQueries[kind]}) f${agentFilter} limit ${MAX_ROWS_PER_KIND}`,
      { now, horizon, agentId: options.agentId ?? null })) as { rows: FindingRow[] };
    const byCertificate = new Map<string, Finding>();
    for (const row of rows) {
      const key = row.certificate_id ?? `${row.agent_id}:${row.path}`;
      let finding = byCertificate.get(key);
      if (!finding) {
        finding = { kind, certificateId: row.certificate_id, subject: null, notAfter: null, places: [] };
        byCertificate.set(key, finding);
        findings.push(finding);
      }
      finding.places.push({
        agentId: row.agent_id,
        agentName: row.agent_name,
        path: row.path,
        endpoint: row.host === null ? null : { host: row.host, port: row.port!, serverName: row.server_name },
        detail: row.detail,
      });
    }
  }
  const ids = [...new Set(findings.map((f) => f.certificateId).filter((id): id is string => id !== null))];
  if (ids.length) {
    const certificates = (await knex('certificates').select('id', 'subject', knex.raw(`to_char(not_after at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as not_after`)).whereIn('id', ids)) as { id: string; subject: string; not_after: string }[];
    const byId = new Map(certificates.map((c) => [c.id, c]));
    for (const finding of findings) {
      const certificate = finding.certificateId ? byId.get(finding.certificateId) : undefined;
      finding.subject = certificate?.subject ?? null;
      finding.notAfter = certificate?.not_after ?? null;
    }
  }
  return findings;
}
