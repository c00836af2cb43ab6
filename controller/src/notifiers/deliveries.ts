// The delivery rows: recorded once per (event, channel), claimed before a send (committed, with a lease),
// then marked sent, retried later or failed. Claims use FOR UPDATE SKIP LOCKED, so replicas share the work
// without sending the same row twice at once.
import type { EntityManager } from '@mikro-orm/postgresql';
import { randomUUID } from 'node:crypto';
import type { CertflowEvent } from '../events/certflow-event.js';

export interface DeliveryRow {
  id: string;
  eventId: string;
  eventKind: string;
  summary: string;
  event: CertflowEvent;
  channelName: string;
  channelKind: string;
  state: 'pending' | 'sending' | 'sent' | 'failed';
  attempts: number;
  nextAttemptAt: Date | null;
  claimedUntil: Date | null;
  claimedBy: string | null;
  lastError: string | null;
  partsDone: string[];
  providerMessageId: string | null;
  createdAt: Date;
  updatedAt: Date;
  sentAt: Date | null;
}

const COLUMNS = `id, event_id, event_kind, summary, event, channel_name, channel_kind, state, attempts, next_attempt_at, claimed_until,
  claimed_by, last_error, parts_done, provider_message_id, created_at, updated_at, sent_at`;

const date = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string));

export function toDeliveryRow(r: Record<string, unknown>): DeliveryRow {
  return {
    id: r.id as string, eventId: r.event_id as string, eventKind: r.event_kind as string, summary: r.summary as string,
    event: r.event as CertflowEvent, channelName: r.channel_name as string, channelKind: r.channel_kind as string,
    state: r.state as DeliveryRow['state'], attempts: Number(r.attempts), nextAttemptAt: date(r.next_attempt_at),
    claimedUntil: date(r.claimed_until), claimedBy: (r.claimed_by as string | null) ?? null, lastError: (r.last_error as string | null) ?? null,
    partsDone: (r.parts_done as string[]) ?? [], providerMessageId: (r.provider_message_id as string | null) ?? null,
    createdAt: date(r.created_at)!, updatedAt: date(r.updated_at)!, sentAt: date(r.sent_at),
  };
}

/**
 * Records one pending delivery per channel; a row that exists already (the event was routed before) is
 * left as it is. `failures` are channels that cannot be delivered to, recorded failed with the reason.
 */
export async function recordDeliveries(em: EntityManager, event: CertflowEvent, channels: Array<{ name: string; kind: string }>,
  failures: Array<{ name: string; reason: string }> = []): Promise<number> {
  let inserted = 0;
  for (const channel of channels) {
    const rows = await em.execute(
      `insert into notification_deliveries (id, event_id, event_kind, summary, event, channel_name, channel_kind, state, attempts,
         next_attempt_at, parts_done, created_at, updated_at)
       values (?, ?, ?, ?, ?::jsonb, ?, ?, 'pending', 0, now(), '[]', now(), now())
       on conflict (event_id, channel_name) do nothing returning id`,
      [randomUUID(), event.id, event.kind, event.summary, JSON.stringify(event), channel.name, channel.kind]);
    inserted += rows.length;
  }
  for (const failure of failures) {
    await em.execute(
      `insert into notification_deliveries (id, event_id, event_kind, summary, event, channel_name, channel_kind, state, attempts,
         last_error, parts_done, created_at, updated_at)
       values (?, ?, ?, ?, ?::jsonb, ?, '-', 'failed', 0, ?, '[]', now(), now())
       on conflict (event_id, channel_name) do nothing`,
      [randomUUID(), event.id, event.kind, event.summary, JSON.stringify(event), failure.name, failure.reason]);
  }
  return inserted;
}

/**
 * Rows whose channel is gone or disabled, and stale claims (a replica died mid-send) that used their last
 * attempt, are failed here: nothing would ever send them.
 */
export async function failUndeliverable(em: EntityManager): Promise<number> {
  const gone = await em.execute(
    `update notification_deliveries d set state = 'failed', updated_at = now(), claimed_until = null, next_attempt_at = null,
       last_error = case when c.id is null then 'the channel was deleted' else 'the channel was disabled' end
     from notification_deliveries d2 left join notification_channels c on c.name = d2.channel_name
     where d.id = d2.id and d.state in ('pending', 'sending') and d.next_attempt_at <= now() and (c.id is null or not c.enabled)
     returning d.id`);
  const interrupted = await em.execute(
    `update notification_deliveries d set state = 'failed', updated_at = now(), claimed_until = null, next_attempt_at = null,
       last_error = coalesce(d.last_error || '; ', '') || 'the last attempt was interrupted (controller stopped mid-send); not tried again: attempts used up'
     from notification_channels c
     where c.name = d.channel_name and d.state = 'sending' and d.next_attempt_at <= now() and d.attempts >= c.max_attempts
     returning d.id`);
  return gone.length + interrupted.length;
}

/**
 * Claims up to `limit` due rows: pending ones whose time has come, and claims whose lease ran out (their
 * replica died; the send may or may not have happened). The claim is committed before anything is sent;
 * the lease is the channel's timeout plus a margin, so a live sender always finishes within it.
 */
export async function claimDue(em: EntityManager, claimant: string, limit: number, perChannel: number, skipChannels: readonly string[] = []): Promise<DeliveryRow[]> {
  // At most `perChannel` rows of one channel at a time: a hanging channel cannot take every slot.
  const rows = await em.execute<Record<string, unknown>[]>(
    `with ranked as (
       select d.id, row_number() over (partition by d.channel_name order by d.next_attempt_at) as n
         from notification_deliveries d join notification_channels c on c.name = d.channel_name and c.enabled
        where d.state in ('pending', 'sending') and d.next_attempt_at <= now() and d.attempts < c.max_attempts
          ${skipChannels.length ? `and d.channel_name not in (${skipChannels.map(() => '?').join(', ')})` : ''}),
     due as (
       select d.id from notification_deliveries d join ranked r on r.id = d.id
        where r.n <= ? and d.state in ('pending', 'sending') and d.next_attempt_at <= now()
        order by d.next_attempt_at limit ? for update of d skip locked)
     update notification_deliveries d set state = 'sending', attempts = d.attempts + 1, claimed_by = ?,
       claimed_until = now() + make_interval(secs => c.timeout_seconds + 10), next_attempt_at = now() + make_interval(secs => c.timeout_seconds + 10),
       updated_at = now()
     from due, notification_channels c
     where d.id = due.id and c.name = d.channel_name
     returning ${COLUMNS.split(',').map((c) => `d.${c.trim()}`).join(', ')}`,
    [...skipChannels, perChannel, limit, claimant]);
  return rows.map(toDeliveryRow);
}

/** Claims one row for an immediate send (the API's test send); null when someone else holds it. */
export async function claimOne(em: EntityManager, id: string, claimant: string, leaseSeconds: number): Promise<DeliveryRow | null> {
  const [row] = await em.execute<Record<string, unknown>[]>(
    `update notification_deliveries set state = 'sending', attempts = attempts + 1, claimed_by = ?,
       claimed_until = now() + make_interval(secs => ?), next_attempt_at = now() + make_interval(secs => ?), updated_at = now()
     where id = ? and state = 'pending' returning ${COLUMNS}`, [claimant, leaseSeconds, leaseSeconds, id]);
  return row ? toDeliveryRow(row) : null;
}

/** Only the claimant may finish a claim: a sender whose lease ran out must not overwrite the next one. */
export async function markSent(em: EntityManager, id: string, claimant: string, providerMessageId: string | undefined): Promise<boolean> {
  const rows = await em.execute(
    `update notification_deliveries set state = 'sent', sent_at = now(), updated_at = now(), claimed_until = null, next_attempt_at = null,
       provider_message_id = ? where id = ? and claimed_by = ? and state = 'sending' returning id`, [providerMessageId ?? null, id, claimant]);
  return rows.length > 0;
}

export async function markFailed(em: EntityManager, id: string, claimant: string, error: string, retryAt: Date | null): Promise<boolean> {
  const rows = await em.execute(
    `update notification_deliveries set state = ?, last_error = ?, updated_at = now(), claimed_until = null, next_attempt_at = ?
     where id = ? and claimed_by = ? and state = 'sending' returning id`,
    [retryAt ? 'pending' : 'failed', error.slice(0, 2000), retryAt, id, claimant]);
  return rows.length > 0;
}

export async function markPartDone(em: EntityManager, id: string, part: string): Promise<void> {
  await em.execute(`update notification_deliveries set parts_done = parts_done || ?::jsonb, updated_at = now() where id = ?`,
    [JSON.stringify([part]), id]);
}

export interface DeliveryFilter {
  state?: string;
  channel?: string;
  eventId?: string;
  eventKind?: string;
}

export async function listDeliveries(em: EntityManager, filter: DeliveryFilter, limit: number, offset: number): Promise<{ items: DeliveryRow[]; total: number }> {
  const conditions: Array<[string, string | undefined]> = [
    ['state = ?', filter.state], ['channel_name = ?', filter.channel], ['event_id = ?', filter.eventId], ['event_kind = ?', filter.eventKind],
  ];
  const given = conditions.filter(([, value]) => value !== undefined);
  const where = given.map(([sql]) => sql);
  const params: unknown[] = given.map(([, value]) => value);
  const clause = where.length ? `where ${where.join(' and ')}` : '';
  const [{ total }] = await em.execute<{ total: string }[]>(`select count(*) as total from notification_deliveries ${clause}`, params);
  const rows = await em.execute<Record<string, unknown>[]>(
    `select ${COLUMNS} from notification_deliveries ${clause} order by created_at desc, id limit ? offset ?`, [...params, limit, offset]);
  return { items: rows.map(toDeliveryRow), total: Number(total) };
}

/** Backoff before attempt n+1: base × 2^(n-1), at most an hour, with ±20 % jitter so retries spread out. */
export function retryDelayMs(baseSeconds: number, attemptsSoFar: number): number {
  const delay = Math.min(3600, baseSeconds * 2 ** Math.max(0, attemptsSoFar - 1)) * 1000;
  return Math.round(delay * (0.8 + Math.random() * 0.4));
}
