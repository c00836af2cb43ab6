// Events about the fleet rather than a run, raised by the scheduler's sweep (one replica at a time):
// - agent.offline, once per outage: an agent unseen for offlineAfterMs; it is reported again only after
//   it came back and went away again;
// - certificate.expiring, once per certificate and threshold (30, 7 and 1 days left by default), for every
//   certificate with a current location, managed or not. The query walks the not_after index, so it stays
//   cheap with a million certificates; a bounded batch per sweep.
import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { CertflowEvent } from '../events/certflow-event.js';
import type { Subjects } from '../messaging/subjects.js';
import { enqueueEvent } from '../workflow/outbox.js';
import { commonNameOf } from '../managed/managed-certificates.js';

export interface FleetWatchOptions {
  offlineAfterMs: number;
  expiryThresholdsDays: number[];
}

const BATCH = 500;

function event(kind: CertflowEvent['kind'], severity: CertflowEvent['severity'], summary: string, details: CertflowEvent['details'], now: Date, managedCertificateId: string | null = null): CertflowEvent {
  return { id: randomUUID(), kind, occurredAt: now.toISOString(), summary, severity, runId: null, managedCertificateId, templateId: null, details };
}

export async function watchFleet(tx: EntityManager, s: Subjects, options: FleetWatchOptions, now: Date): Promise<number> {
  let raised = 0;
  // Back again: the next outage is a new one.
  await tx.execute('update agents set offline_reported_at = null where offline_reported_at is not null and last_seen_at > offline_reported_at', [], 'run');
  const offline = await tx.execute<{ id: string; name: string; last_seen_at: string | Date }[]>(
    `select id, name, last_seen_at from agents
      where revoked_at is null and offline_reported_at is null and last_seen_at is not null and last_seen_at < ?
      limit ? for update skip locked`, [new Date(now.getTime() - options.offlineAfterMs), BATCH]);
  for (const agent of offline) {
    const since = new Date(agent.last_seen_at);
    await enqueueEvent(tx, s, event('agent.offline', 'warning', `Agent ${agent.name} has not been seen since ${since.toISOString()}`,
      { agentId: agent.id, host: agent.name }, now));
    await tx.execute('update agents set offline_reported_at = ? where id = ?', [now, agent.id], 'run');
    raised += 1;
  }

  const thresholds = [...options.expiryThresholdsDays].sort((a, b) => b - a);
  if (thresholds.length === 0) return raised;
  const horizon = new Date(now.getTime() + thresholds[0]! * 86_400_000);
  const expiring = await tx.execute<{ id: string; subject: string; sans: string[]; not_after: string | Date; fingerprint_sha256: string; hosts: string[]; managed_id: string | null }[]>(
    `select c.id, c.subject, c.sans, c.not_after, c.fingerprint_sha256,
            array(select distinct a.name from certificate_locations l join agents a on a.id = l.agent_id
                   where l.certificate_id = c.id and l.removed_at is null) as hosts,
            (select m.id from managed_certificates m where m.current_fingerprint_sha256 = c.fingerprint_sha256 and m.state <> 'retired' limit 1) as managed_id
       from certificates c
      where c.not_after > ? and c.not_after <= ? and not c.is_ca
        and exists (select 1 from certificate_locations l where l.certificate_id = c.id and l.removed_at is null)
        and not exists (select 1 from expiry_notices n where n.certificate_id = c.id
                          and n.threshold_days = (select min(t) from unnest(?::int[]) t where c.not_after <= ?::timestamptz + t * interval '1 day'))
      order by c.not_after limit ?`,
    [now, horizon, `{${thresholds.join(',')}}`, now, BATCH]);
  for (const cert of expiring) {
    const notAfter = new Date(cert.not_after);
    const daysLeft = Math.floor((notAfter.getTime() - now.getTime()) / 86_400_000);
    // The smallest threshold the certificate is within: 3 days left with thresholds 30/7/1 → 7.
    const threshold = thresholds.filter((t) => notAfter.getTime() <= now.getTime() + t * 86_400_000).at(-1)!;
    const inserted = await tx.execute<{ certificate_id: string }[]>(
      'insert into expiry_notices (certificate_id, threshold_days, created_at) values (?, ?, ?) on conflict do nothing returning certificate_id',
      [cert.id, threshold, now]);
    if (inserted.length === 0) continue;
    const names = cert.sans.filter((n) => n.startsWith('DNS:')).map((n) => n.slice(4));
    const cn = commonNameOf(cert.subject) ?? cert.subject;
    await enqueueEvent(tx, s, event('certificate.expiring', daysLeft <= 7 ? 'critical' : 'warning',
      `${names[0] ?? cn} expires in ${daysLeft} day(s) (${notAfter.toISOString().slice(0, 10)})${cert.managed_id ? ', renewal managed by certflow' : ', NOT managed by certflow'} on ${cert.hosts.join(', ')}`,
      { commonName: cn, dnsNames: names, daysLeft, notAfter: notAfter.toISOString(), fingerprintSha256: cert.fingerprint_sha256, host: cert.hosts.join(', ') }, now, cert.managed_id));
    raised += 1;
  }
  return raised;
}
