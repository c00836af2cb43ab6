// The renewal scheduler on real Postgres: templates adopt matching inventory certificates, due
// certificates get one run each, two replicas sweeping at the same moment start no duplicates, a sweep
// starts at most maxStartsPerSweep runs, and certificates in backoff or paused wait. A sweep starts its
// runs in batches; each run still gets its discover stage, work message, renewal.started event and
// run.started audit entry, and a certificate paused after the sweep chose it is not started.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { createOrm, migrate, type Orm } from '../../controller/src/db/orm.js';
import { pgArray } from '../../controller/src/db/pg-array.js';
import { createLogger } from '../../controller/src/log.js';
import { subjects } from '../../controller/src/messaging/subjects.js';
import { RenewalScheduler } from '../../controller/src/scheduler/scheduler.js';
import { createTemplate } from '../../controller/src/templates/template-changes.js';
import { parseCertificates, upsertCertificates } from '../../controller/src/inventory/upsert-certificates.js';
import { makeCertificate, days } from '../support/certificates.js';
import { startDueRuns } from '../../controller/src/workflow/runs.js';

let db: TestDatabase;
let ormA: Orm;
let ormB: Orm;
const s = subjects('sched');
const log = createLogger('silent');

beforeAll(async () => {
  db = await createTestDatabase();
  ormA = await createOrm(db.url);
  await ormA.connect();
  await migrate(ormA);
  ormB = await createOrm(db.url);
  await ormB.connect();
}, 60_000);

afterAll(async () => {
  await ormA?.close();
  await ormB?.close();
  await db?.drop();
});

async function addToInventory(names: string[], notAfter: Date): Promise<void> {
  const certs = await Promise.all(names.map((n) => makeCertificate({ commonName: n, dnsNames: [n], notAfter })));
  const { parsed } = parseCertificates(certs.map((c) => ({ der: c.der })));
  await upsertCertificates(ormA.em.fork(), parsed, new Date());
}

const count = async (sql: string, params: unknown[] = []) =>
  Number((await ormA.em.fork().execute<{ n: string }[]>(sql, params))[0]!.n);

describe('renewal scheduler', () => {
  it('adopts matching inventory certificates by template rules, and only those', async () => {
    await createTemplate(ormA.em.fork(), { name: 'shop', actor: 'test', document: { match: { domainPatterns: ['*.shop.example'] } } });
    await addToInventory(['a.shop.example', 'b.shop.example'], days(200));
    await addToInventory(['other.example'], days(200));
    const scheduler = new RenewalScheduler(ormA, s, log, { intervalMs: 1000, maxStartsPerSweep: 50 });
    const result = await scheduler.sweep();
    expect(result.swept).toBe(true);
    expect(result.adopted).toBe(2);
    const rows = await ormA.em.fork().execute<{ dns_names: string[]; adopted_by: string; renew_after: Date }[]>('select dns_names, adopted_by, renew_after from managed_certificates order by name');
    expect(rows.map((r) => r.dns_names[0])).toEqual(['a.shop.example', 'b.shop.example']);
    expect(rows.every((r) => r.adopted_by === 'template:shop')).toBe(true);
    // 200 days left, renew 30 days before: not due, no run.
    expect(result.started).toBe(0);
    // A second sweep adopts nothing new.
    expect((await scheduler.sweep()).adopted).toBe(0);
  });

  it('two replicas sweeping at the same moment start exactly one run per due certificate, at most maxStartsPerSweep per sweep', async () => {
    await createTemplate(ormA.em.fork(), { name: 'due', actor: 'test', document: { match: { domainPatterns: ['*.due.example'] } } });
    await addToInventory(Array.from({ length: 30 }, (_, i) => `h${i}.due.example`), days(10));
    const a = new RenewalScheduler(ormA, s, log, { intervalMs: 1000, maxStartsPerSweep: 12 });
    const b = new RenewalScheduler(ormB, s, log, { intervalMs: 1000, maxStartsPerSweep: 12 });
    // Adoption first (one sweep adopts and starts at most 12).
    for (let round = 0; round < 6; round++) {
      const [ra, rb] = await Promise.all([a.sweep(), b.sweep()]);
      // The advisory lock lets one of them sweep; the other returns at once. (Both may sweep one after the other.)
      expect(ra.started).toBeLessThanOrEqual(12);
      expect(rb.started).toBeLessThanOrEqual(12);
    }
    expect(await count(`select count(*) as n from managed_certificates where dns_names->>0 like '%.due.example'`)).toBe(30);
    expect(await count(`select count(*) as n from workflow_runs r join managed_certificates m on m.id = r.managed_certificate_id where m.dns_names->>0 like '%.due.example'`)).toBe(30);
    expect(await count(`select count(*) as n from (select managed_certificate_id from workflow_runs group by 1 having count(*) > 1) d`)).toBe(0);
    // Each run's first stage is in the outbox, once.
    expect(await count(`select count(*) as n from outbox where subject = ?`, [s.work('discover')])).toBe(30);
    expect(await count(`select count(*) as n from outbox where subject = ?`, [s.event('renewal.started')])).toBe(30);
  });

  it('leaves certificates in backoff, paused ones, and ones with an active run alone', async () => {
    await ormA.em.fork().execute(`update workflow_runs set state = 'failed', finished_at = now()`);
    await ormA.em.fork().execute(`update managed_certificates set backoff_until = now() + interval '1 hour' where dns_names->>0 like 'h1%'`);
    await ormA.em.fork().execute(`update managed_certificates set state = 'paused' where dns_names->>0 = 'h2.due.example'`);
    const backoff = await count(`select count(*) as n from managed_certificates where backoff_until > now() or state = 'paused'`);
    const before = await count('select count(*) as n from workflow_runs');
    const scheduler = new RenewalScheduler(ormA, s, log, { intervalMs: 1000, maxStartsPerSweep: 100 });
    const result = await scheduler.sweep();
    expect(result.started).toBe(30 - backoff);
    expect(await count('select count(*) as n from workflow_runs')).toBe(before + 30 - backoff);
    // Nothing more on the next sweep: every due certificate now has an active run.
    expect((await scheduler.sweep()).started).toBe(0);
  });

  it('raises agent.offline once per outage and certificate.expiring once per certificate and threshold', async () => {
    const em = ormA.em.fork();
    const agentId = crypto.randomUUID();
    await em.execute(`insert into agents (id, name, host_facts, certificate_serial, certificate_not_after, enrolled_at, enrolled_with_token_id, last_seen_at, scan_problems)
      values (?, 'web-7', '{}'::jsonb, '01', now() + interval '30 days', now(), 't', now() - interval '10 minutes', '[]'::jsonb)`, [agentId]);
    const cert = await makeCertificate({ commonName: 'soon.example', dnsNames: ['soon.example'], notAfter: days(5) });
    const { parsed } = parseCertificates([{ der: cert.der }]);
    const ids = await upsertCertificates(em, parsed, new Date());
    const certificateId = [...ids.values()][0]!;
    await em.execute(`insert into certificate_locations (id, certificate_id, agent_id, path, position, format, first_seen_at, last_seen_at)
      values (?, ?, ?, '/etc/ssl/soon.pem', 0, 'pem', now(), now())`, [crypto.randomUUID(), certificateId, agentId]);
    const scheduler = new RenewalScheduler(ormA, s, log, { intervalMs: 1000, maxStartsPerSweep: 0 + 1, fleet: { offlineAfterMs: 60_000, expiryThresholdsDays: [30, 7, 1] } });
    const events = async (kind: string) => (await ormA.em.fork().execute<{ payload: { summary: string; details: Record<string, unknown> } }[]>(
      'select payload from outbox where subject = ? order by id', [s.event(kind)])).map((r) => r.payload);
    await scheduler.sweep();
    await scheduler.sweep();
    const offline = await events('agent.offline');
    expect(offline).toHaveLength(1);
    expect(offline[0]!.details).toMatchObject({ agentId, host: 'web-7' });
    const expiring = (await events('certificate.expiring')).filter((e) => e.details.fingerprintSha256 === parsed[0]!.facts.fingerprintSha256);
    expect(expiring).toHaveLength(1);
    expect(expiring[0]!.summary).toMatch(/soon\.example expires in 4 day\(s\).*NOT managed.*web-7/);
    // The agent comes back, then goes away again: a new outage, a new event.
    await em.execute(`update agents set last_seen_at = now() where id = ?`, [agentId]);
    await scheduler.sweep();
    await em.execute(`update agents set last_seen_at = now() - interval '10 minutes' where id = ?`, [agentId]);
    await scheduler.sweep();
    expect(await events('agent.offline')).toHaveLength(2);
  });

  it('adopts by the labels and host groups of the agents holding a certificate', async () => {
    const em = ormA.em.fork();
    const prod = crypto.randomUUID();
    const lab = crypto.randomUUID();
    for (const [id, name, labels, groups] of [[prod, 'prod-1', { env: 'prod' }, ['web']], [lab, 'lab-1', { env: 'lab' }, ['web']]] as const) {
      await em.execute(`insert into agents (id, name, host_facts, certificate_serial, certificate_not_after, enrolled_at, enrolled_with_token_id, last_seen_at, scan_problems, labels, host_groups)
        values (?, ?, '{}'::jsonb, '01', now() + interval '30 days', now(), 't', now(), '[]'::jsonb, ?::jsonb, ?::jsonb)`, [id, name, JSON.stringify(labels), JSON.stringify(groups)]);
    }
    await createTemplate(ormA.em.fork(), { name: 'prod-web', actor: 'test', document: { match: { labels: { env: 'prod' }, hostGroups: ['web'], domainPatterns: ['*.labels.example'] } } });
    for (const [name, agent] of [['p.labels.example', prod], ['l.labels.example', lab]] as const) {
      const cert = await makeCertificate({ commonName: name, dnsNames: [name], notAfter: days(300) });
      const { parsed } = parseCertificates([{ der: cert.der }]);
      const id = [...(await upsertCertificates(em, parsed, new Date())).values()][0]!;
      await em.execute(`insert into certificate_locations (id, certificate_id, agent_id, path, position, format, first_seen_at, last_seen_at)
        values (?, ?, ?, ?, 0, 'pem', now(), now())`, [crypto.randomUUID(), id, agent, `/etc/ssl/${name}.pem`]);
    }
    await new RenewalScheduler(ormA, s, log, { intervalMs: 1000, maxStartsPerSweep: 1 }).sweep();
    const adopted = await ormA.em.fork().execute<{ name: string; adopted_by: string }[]>(`select dns_names->>0 as name, adopted_by from managed_certificates where dns_names->>0 like '%.labels.example'`);
    expect(adopted).toEqual([{ name: 'p.labels.example', adopted_by: 'template:prod-web' }]);
  });

  it('starts more due certificates than one batch holds, each run with its stage, messages and audit entry', async () => {
    const names = await declareDue('batch', 130);
    const result = await new RenewalScheduler(ormA, s, log, { intervalMs: 1000, maxStartsPerSweep: 120 }).sweep();
    expect(result.started).toBe(120);
    const runs = await ormA.em.fork().execute<{ id: string; name: string; template_version: number; stages: string[] }[]>(
      `select r.id, m.name, r.template_version, array(select stage || '=' || state from workflow_stages st where st.run_id = r.id) as stages
         from workflow_runs r join managed_certificates m on m.id = r.managed_certificate_id
        where m.name = any(?::text[]) and r.state = 'running' and r.current_stage = 'discover' and r.reason = 'scheduled'`, [pgArray(names)]);
    expect(runs).toHaveLength(120);
    // Oldest window first: the ten certificates due last wait for the next sweep.
    expect(new Set(runs.map((r) => r.name))).toEqual(new Set(names.slice(0, 120)));
    expect(runs.every((r) => r.stages.join() === 'discover=pending')).toBe(true);
    const ids = pgArray(runs.map((r) => r.id));
    expect(await count(`select count(*) as n from outbox where subject = ? and payload->>'runId' = any(?::text[])`, [s.work('discover'), ids])).toBe(120);
    expect(await count(`select count(distinct payload->>'runId') as n from outbox where subject = ? and payload->>'runId' = any(?::text[])`, [s.event('renewal.started'), ids])).toBe(120);
    // Entries wait in audit_pending until a sequencer chains them; none runs here.
    const audit = await ormA.em.fork().execute<{ target_id: string; actor: string; after: { managedCertificate: string; reason: string; templateVersion: number } }[]>(
      `select target_id, actor, after from audit_pending where action = 'run.started' and target_id = any(?::text[])
       union all select target_id, actor, after from audit_events where action = 'run.started' and target_id = any(?::text[])`, [ids, ids]);
    expect(audit).toHaveLength(120);
    const byRun = new Map(runs.map((r) => [r.id, r]));
    expect(audit.every((a) => a.actor === 'scheduler' && a.after.reason === 'scheduled' && a.after.managedCertificate === byRun.get(a.target_id)?.name
      && a.after.templateVersion === byRun.get(a.target_id)?.template_version)).toBe(true);
    // The next sweep starts the other ten, and nothing twice.
    expect((await new RenewalScheduler(ormA, s, log, { intervalMs: 1000, maxStartsPerSweep: 120 }).sweep()).started).toBe(10);
  });

  it('a certificate paused, in backoff, no longer due or given a run after the sweep chose it is not started', async () => {
    const [paused, backoff, later, running, due] = await declareDue('recheck', 5);
    const idOf = async (name: string) => (await ormA.em.fork().execute<{ id: string }[]>('select id from managed_certificates where name = ?', [name]))[0]!.id;
    const ids = await Promise.all([paused, backoff, later, running, due].map((n) => idOf(n!)));
    const em = ormA.em.fork();
    await em.execute(`update managed_certificates set state = 'paused' where name = ?`, [paused]);
    await em.execute(`update managed_certificates set backoff_until = now() + interval '1 hour' where name = ?`, [backoff]);
    await em.execute(`update managed_certificates set renew_after = now() + interval '1 day' where name = ?`, [later]);
    const now = new Date();
    expect(await ormA.em.fork().transactional((tx) => startDueRuns(tx, s, [ids[3]!], now))).toBe(1);
    expect(await ormA.em.fork().transactional((tx) => startDueRuns(tx, s, ids, now))).toBe(1);
    const started = await ormA.em.fork().execute<{ name: string; n: number }[]>(
      `select m.name, count(r.id)::int as n from managed_certificates m left join workflow_runs r on r.managed_certificate_id = m.id
        where m.id = any(?::uuid[]) group by m.name order by m.name`, [pgArray(ids)]);
    expect(Object.fromEntries(started.map((r) => [r.name, r.n]))).toEqual({ [paused!]: 0, [backoff!]: 0, [later!]: 0, [running!]: 1, [due!]: 1 });
  });
});

/** `n` managed certificates of the default template, due a minute ago and earlier (the first oldest); their names. */
async function declareDue(label: string, n: number): Promise<string[]> {
  const em = ormA.em.fork();
  const [template] = await em.execute<{ id: string; current_version: number }[]>(`select id, current_version from templates where name = 'default'`);
  const rows = await em.execute<{ name: string }[]>(
    `insert into managed_certificates (id, name, template_id, dns_names, ip_addresses, labels, targets, state, adopted_by,
        current_not_before, current_not_after, renew_after, renewal_computed_with_version, consecutive_failures, created_at, updated_at)
     select gen_random_uuid(), ? || '-' || lpad(i::text, 4, '0'), ?, jsonb_build_array('c' || i || '.' || ? || '.example'), '[]'::jsonb, '{}'::jsonb, '[]'::jsonb, 'active', 'test',
        now() - interval '60 days', now() + interval '20 days', now() - interval '1 hour' + i * interval '1 second', ?, 0, now(), now()
       from generate_series(1, ?) i
     returning name`, [label, template!.id, label, template!.current_version, n]);
  return rows.map((r) => r.name).sort();
}
