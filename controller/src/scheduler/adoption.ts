// Auto-adoption: templates with match rules adopt inventory certificates that match them. A
// certificate's labels are those every agent holding it carries; its host groups those of its agents. The sweep
// walks the inventory by first-seen time from a stored cursor, a bounded batch each time, so it costs
// little at a million certificates; a template created or changed since the cursor last moved makes
// the walk start again from the beginning (older certificates may match the new rules).
import type { EntityManager } from '@mikro-orm/postgresql';
import { templateMatches } from '../templates/template-match.js';
import { listTemplatesWithMatch } from '../templates/template-store.js';
import { adoptCertificate, commonNameOf, dnsNamesOf } from '../managed/managed-certificates.js';

const BATCH = 2000;
const CURSOR_KEY = 'adoption-cursor';

interface Cursor {
  firstSeenAt: string;
  id: string;
  /** The templates and versions the walk is for: another set restarts it. */
  rules: string;
}

export async function adoptByTemplates(tx: EntityManager, now: Date): Promise<number> {
  const rules = await listTemplatesWithMatch(tx);
  if (rules.length === 0) return 0;
  const signature = rules.map((r) => `${r.templateId}@${r.version}`).join(',');
  const [stored] = await tx.execute<{ value: Cursor }[]>('select value from scheduler_state where key = ?', [CURSOR_KEY]);
  const cursor: Cursor = stored?.value.rules === signature ? stored.value : { firstSeenAt: '1970-01-01T00:00:00.000Z', id: '00000000-0000-0000-0000-000000000000', rules: signature };
  // Looking up the agents of every certificate costs most of the walk: only when a rule needs them.
  const byAgents = rules.some((r) => r.match.labels || r.match.hostGroups);
  const rows = await tx.execute<{ id: string; fingerprint_sha256: string; subject: string; issuer: string; sans: string[]; not_before: string | Date; not_after: string | Date; is_ca: boolean; first_seen_at: string | Date;
    agent_labels: Record<string, string>[] | null; host_groups: string[] | null }[]>(
    `select c.id, c.fingerprint_sha256, c.subject, c.issuer, c.sans, c.not_before, c.not_after, c.is_ca, c.first_seen_at,
            ${byAgents ? `(select jsonb_agg(distinct a.labels) from certificate_locations l join agents a on a.id = l.agent_id
              where l.certificate_id = c.id and l.removed_at is null)` : 'null'} as agent_labels,
            ${byAgents ? `(select jsonb_agg(distinct g) from certificate_locations l join agents a on a.id = l.agent_id, jsonb_array_elements_text(a.host_groups) g
              where l.certificate_id = c.id and l.removed_at is null)` : 'null'} as host_groups
       from certificates c
      where (c.first_seen_at, c.id) > (?::timestamptz, ?::uuid) and not c.is_ca
      order by c.first_seen_at, c.id limit ?`,
    [cursor.firstSeenAt, cursor.id, BATCH]);
  let adopted = 0;
  for (const row of rows) {
    const cert = { id: row.id, fingerprintSha256: row.fingerprint_sha256, subject: row.subject, issuer: row.issuer, sans: row.sans,
      notBefore: new Date(row.not_before), notAfter: new Date(row.not_after), isCa: row.is_ca };
    const dnsNames = dnsNamesOf(cert);
    if (dnsNames.length === 0 || cert.notAfter < now) continue;
    const cn = commonNameOf(cert.subject);
    const rule = rules.find((r) => templateMatches(r.match, {
      dnsNames, commonName: cn, issuerDn: cert.issuer, labels: sharedLabels(row.agent_labels ?? []), hostGroups: row.host_groups ?? [],
    }));
    if (!rule) continue;
    const [managed] = await tx.execute<{ id: string }[]>(
      `select id from managed_certificates where (source_certificate_id = ? or current_fingerprint_sha256 = ?) and state <> 'retired'`, [cert.id, cert.fingerprintSha256]);
    if (managed) continue;
    if (await adoptCertificate(tx, { certificate: cert, templateId: rule.templateId, adoptedBy: `template:${rule.name}` }, now)) adopted += 1;
  }
  const last = rows.at(-1);
  const next: Cursor = last ? { firstSeenAt: new Date(last.first_seen_at).toISOString(), id: last.id, rules: signature } : cursor;
  await tx.execute(
    `insert into scheduler_state (key, value, updated_at) values (?, ?::jsonb, now()) on conflict (key) do update set value = excluded.value, updated_at = now()`,
    [CURSOR_KEY, JSON.stringify(next)], 'run');
  return adopted;
}

/** The labels every agent holding the certificate carries with the same value. */
function sharedLabels(perAgent: Record<string, string>[]): Record<string, string> {
  if (perAgent.length === 0) return {};
  const [first, ...rest] = perAgent;
  return Object.fromEntries(Object.entries(first!).filter(([k, v]) => rest.every((l) => l[k] === v)));
}

/** Something a match rule looks at changed (an agent's labels): walk the whole inventory again. */
export async function restartAdoptionWalk(em: EntityManager): Promise<void> {
  await em.execute('delete from scheduler_state where key = ?', [CURSOR_KEY], 'run');
}
