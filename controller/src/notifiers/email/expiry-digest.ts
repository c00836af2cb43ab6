// The daily digest of certificates expiring soon, from the inventory (every certificate found on a host,
// managed or not). The digest is built when it falls due and kept in its delivery row as an event, so a
// retry sends what was due that day; its id is derived from the channel and the date, so every replica
// that notices it is due finds the same row and only one email goes out.
import type { EntityManager } from '@mikro-orm/postgresql';
import { createHash } from 'node:crypto';
import type { CertflowEvent } from '../../events/certflow-event.js';
import type { EmailConfig } from './email-config.js';

export interface DigestCertificate {
  subject: string;
  sans: string[];
  notAfter: string;
  daysLeft: number;
  /** Agents (names) where the certificate is currently found. */
  hosts: string[];
}

export interface ExpiryDigest {
  date: string;
  withinDays: number;
  /** How many certificates expire within the window (the list may be shorter). */
  total: number;
  certificates: DigestCertificate[];
}

const DAY_MS = 86_400_000;

/** A UUID (version 5 layout) derived from a name: the same digest always gets the same event id. */
export function uuidFromName(name: string): string {
  const h = createHash('sha1').update(`certflow:${name}`).digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** True once today's digest hour (UTC) has come. */
export function digestDue(config: EmailConfig, now: Date): boolean {
  return config.digest.enabled && now.getUTCHours() >= config.digest.hourUtc;
}

/** Certificates with a current location whose notAfter falls before now + withinDays (expired ones too). */
export async function queryExpiring(em: EntityManager, withinDays: number, limit: number, now = new Date()): Promise<Omit<ExpiryDigest, 'date' | 'withinDays'>> {
  const horizon = new Date(now.getTime() + withinDays * DAY_MS);
  const current = `exists (select 1 from certificate_locations l where l.certificate_id = c.id and l.removed_at is null)`;
  const [{ total }] = await em.execute<{ total: string }[]>(
    `select count(*) as total from certificates c where c.not_after < ? and ${current}`, [horizon]);
  const rows = await em.execute<{ subject: string; sans: string[]; not_after: string | Date; hosts: string[] | null }[]>(
    `select c.subject, c.sans, c.not_after,
       (select array_agg(distinct a.name order by a.name) from certificate_locations l join agents a on a.id = l.agent_id
         where l.certificate_id = c.id and l.removed_at is null) as hosts
     from certificates c where c.not_after < ? and ${current}
     order by c.not_after, c.id limit ?`, [horizon, limit]);
  return {
    total: Number(total),
    certificates: rows.map((r) => {
      const notAfter = new Date(r.not_after);
      return {
        subject: r.subject, sans: r.sans, notAfter: notAfter.toISOString(),
        daysLeft: Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS), hosts: r.hosts ?? [],
      };
    }),
  };
}

/** The digest of `channel` for the day of `now`, as the event its delivery row carries. */
export async function buildDigestEvent(em: EntityManager, channel: string, config: EmailConfig, now = new Date()): Promise<CertflowEvent> {
  const date = now.toISOString().slice(0, 10);
  const found = await queryExpiring(em, config.digest.withinDays, config.digest.maxCertificates, now);
  const digest: ExpiryDigest = { date, withinDays: config.digest.withinDays, ...found };
  return {
    id: uuidFromName(`digest:${channel}:${date}`),
    kind: 'certificate.expiring',
    occurredAt: now.toISOString(),
    summary: `Daily digest ${date}: ${digest.total} certificate${digest.total === 1 ? '' : 's'} expire within ${digest.withinDays} days`,
    severity: digest.certificates.some((c) => c.daysLeft < 7) ? 'warning' : 'info',
    runId: null, managedCertificateId: null, templateId: null,
    details: { digest },
  };
}

export function digestOf(event: CertflowEvent): ExpiryDigest | undefined {
  return (event.details as { digest?: ExpiryDigest }).digest;
}
