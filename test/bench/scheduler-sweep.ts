// The scheduler's sweep over a large installation (used by workflow.bench.ts): its own database, seeded
// with N inventory certificates (each found on an agent) and N managed certificates whose renewal times are
// spread over the next year, a template with match rules (so each sweep walks a batch of the inventory
// for auto-adoption) and 50 certificates due now. Seeding is plain SQL (generate_series); the rows carry
// no real DER since the sweep never parses it. Then it times sweeps: the first (50 runs started, the
// adoption walk), and the steady state (nothing due).
import { createTestDatabase } from '../support/postgres.js';
import { createOrm, migrate } from '../../controller/src/db/orm.js';
import { createLogger } from '../../controller/src/log.js';
import { subjects } from '../../controller/src/messaging/subjects.js';
import { RenewalScheduler } from '../../controller/src/scheduler/scheduler.js';
import { createTemplate } from '../../controller/src/templates/template-changes.js';
import { adoptByTemplates } from '../../controller/src/scheduler/adoption.js';
import { watchFleet } from '../../controller/src/scheduler/fleet-watch.js';
import type { EntityManager } from '@mikro-orm/postgresql';

const ms = (value: number) => (value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`);

export async function benchSweep(count: number): Promise<void> {
  const db = await createTestDatabase();
  const orm = await createOrm(db.url);
  try {
    await orm.connect();
    await migrate(orm);
    const em = orm.em.fork();
    const seedStarted = performance.now();
    const agentId = crypto.randomUUID();
    await em.execute(`insert into agents (id, name, host_facts, certificate_serial, certificate_not_after, enrolled_at, enrolled_with_token_id, last_seen_at, scan_problems)
      values (?, 'bench-host', '{}'::jsonb, '01', now() + interval '30 days', now(), 't', now(), '[]'::jsonb)`, [agentId]);
    const [template] = await em.execute<{ id: string }[]>(`select id from templates where name = 'default'`);
    await em.execute(`insert into certificates (id, fingerprint_sha256, der, subject, issuer, serial_number, sans, search_text, not_before, not_after,
        key_algorithm, key_size, curve, signature_algorithm, self_signed, is_ca, first_seen_at, last_seen_at)
      select gen_random_uuid(), md5(i::text) || md5((i + 1)::text), '\\x00'::bytea, 'CN=host' || i || '.fleet.example', 'CN=Fleet CA', i::text,
        jsonb_build_array('DNS:host' || i || '.fleet.example'), 'cn=host' || i || '.fleet.example', now() - interval '300 days',
        now() + (interval '40 days') + (i % 365) * interval '1 day', 'EC', 256, 'P-256', 'ecdsa-with-SHA256', false, false, now() - interval '1 day', now()
      from generate_series(1, ?) i`, [count]);
    await em.execute(`insert into certificate_locations (id, certificate_id, agent_id, path, position, format, first_seen_at, last_seen_at)
      select gen_random_uuid(), c.id, ?, '/etc/ssl/' || c.serial_number || '.pem', 0, 'pem', now(), now() from certificates c`, [agentId]);
    await em.execute(`insert into managed_certificates (id, name, template_id, dns_names, ip_addresses, labels, targets, state, adopted_by, source_certificate_id,
        current_fingerprint_sha256, current_not_before, current_not_after, renew_after, renewal_computed_with_version, consecutive_failures, created_at, updated_at)
      select gen_random_uuid(), 'm' || c.serial_number, ?, jsonb_build_array('host' || c.serial_number || '.fleet.example'), '[]'::jsonb, '{}'::jsonb, '[]'::jsonb, 'active',
        'bench', c.id, c.fingerprint_sha256, c.not_before, c.not_after,
        case when c.serial_number::int <= 50 then now() - interval '1 minute' else c.not_after - interval '30 days' end, 1, 0, now(), now()
      from certificates c`, [template!.id]);
    await em.execute('analyze');
    console.log(`sweep: seeded ${count.toLocaleString('en')} inventory certificates (each on an agent) and ${count.toLocaleString('en')} managed ones, 50 due now, in ${ms(performance.now() - seedStarted)}`);
    await createTemplate(orm.em.fork(), { name: 'fleet', actor: 'bench', document: { match: { domainPatterns: ['*.elsewhere.example'] } } });

    const scheduler = new RenewalScheduler(orm, subjects('benchsweep'), createLogger('silent'), { intervalMs: 1000, maxStartsPerSweep: 50, fleet: { offlineAfterMs: 90_000, expiryThresholdsDays: [30, 7, 1] } });
    let started = performance.now();
    const first = await scheduler.sweep();
    console.log(`sweep over ${count.toLocaleString('en')} certificates, first: ${ms(performance.now() - started)} (started ${first.started} runs, walked 2,000 inventory rows for adoption, raised ${first.raised} events)`);
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      started = performance.now();
      await scheduler.sweep();
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    console.log(`sweep over ${count.toLocaleString('en')} certificates, steady state (nothing due; adoption walk of 2,000 rows each): median ${ms(times[2]!)}, max ${ms(times[4]!)} over 5 sweeps`);
    // Where a steady-state sweep spends its time.
    const now = new Date();
    const part = async (name: string, fn: (tx: EntityManager) => Promise<unknown>) => {
      const t0 = performance.now();
      await orm.em.fork().transactional(fn);
      return `${name} ${ms(performance.now() - t0)}`;
    };
    console.log(`  of which: ${[
      await part('adoption walk', (tx) => adoptByTemplates(tx, now)),
      await part('due query', (tx) => tx.execute(`select m.id from managed_certificates m where m.state = 'active' and m.renew_after <= ? and (m.backoff_until is null or m.backoff_until <= ?)
        and not exists (select 1 from workflow_runs r where r.managed_certificate_id = m.id and r.state not in ('succeeded', 'failed', 'rejected', 'cancelled', 'rolled-back'))
        order by m.renew_after limit 50`, [now, now])),
      await part('fleet events', (tx) => watchFleet(tx, subjects('benchsweep'), { offlineAfterMs: 90_000, expiryThresholdsDays: [30, 7, 1] }, now)),
    ].join(', ')}`);
  } finally {
    await orm.close();
    await db.drop();
  }
}
