// The audit trail on real Postgres: every recorded operation chains to the one before; the table
// refuses edits; an edit made behind its back is found, naming the first broken entry.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { createOrm, migrate, type Orm } from '../../controller/src/db/orm.js';
import { createLogger } from '../../controller/src/log.js';
import { createApiServer } from '../../controller/src/api/server.js';
import { createAdminToken } from '../../controller/src/auth/admin-tokens.js';
import { appendAudit, appendAuditDeferred, chainPendingAudit, verifyAudit } from '../../controller/src/audit/audit-trail.js';
import type { ControllerConfig } from '../../controller/src/config.js';

let db: TestDatabase;
let orm: Orm;
let app: FastifyInstance;
let adminToken = '';
let auditorToken = '';
let approverToken = '';

beforeAll(async () => {
  db = await createTestDatabase();
  orm = await createOrm(db.url);
  await orm.connect();
  await migrate(orm);
  adminToken = (await createAdminToken(orm.em.fork(), { name: 'alice', role: 'admin' })).token;
  auditorToken = (await createAdminToken(orm.em.fork(), { name: 'audrey', role: 'auditor', actor: 'token:alice' })).token;
  approverToken = (await createAdminToken(orm.em.fork(), { name: 'apollo', role: 'approver', actor: 'token:alice' })).token;
  app = await createApiServer({
    orm, log: createLogger('silent'),
    config: { checkInIntervalSeconds: 30, offlineAfterIntervals: 3, enrollmentTokenDefaultHours: 24 } as ControllerConfig,
    readiness: () => ({ database: true, nats: true, gateway: true }),
    agentCa: () => ({ certPem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n', fingerprintSha256: 'ab'.repeat(32) }),
  });
});

afterAll(async () => {
  await app?.close();
  await orm?.close();
  await db?.drop();
});

const get = (url: string, token = auditorToken) => app.inject({ url, headers: { authorization: `Bearer ${token}` } });

describe('the audit trail', () => {
  it('records who created an enrolment token, in the same transaction as the token', async () => {
    const created = await app.inject({ method: 'POST', url: '/api/v1/enrollment-tokens', headers: { authorization: `Bearer ${adminToken}` }, payload: { description: 'web-07' } });
    expect(created.statusCode).toBe(201);
    const page = (await get('/api/v1/audit?action=enrollment-token.create')).json();
    expect(page.items).toEqual([expect.objectContaining({
      actor: 'token:alice', action: 'enrollment-token.create', targetType: 'enrollment-token', targetId: created.json().id,
      after: expect.objectContaining({ description: 'web-07' }),
    })]);
    expect(JSON.stringify(page)).not.toContain(created.json().token);
  });

  it('chains every entry to the previous one and verifies', async () => {
    for (let i = 0; i < 20; i++) await appendAudit(orm.em.fork(), { actor: 'test', action: 'test.entry', targetType: 'thing', targetId: String(i), after: { i, nested: { b: 2, a: 1 } } });
    const verdict = (await get('/api/v1/audit/verify')).json();
    expect(verdict).toEqual({ ok: true, entries: 24, firstBroken: null });
    const items = (await get('/api/v1/audit?limit=1000')).json().items as { seq: number; prevHash: string; hash: string }[];
    for (let i = 1; i < items.length; i++) expect(items[i].prevHash).toBe(items[i - 1].hash);
  });

  it('keeps one chain when entries are appended concurrently', async () => {
    await Promise.all(Array.from({ length: 30 }, (_, i) => appendAudit(orm.em.fork(), { actor: 'parallel', action: 'test.parallel', targetType: 'thing', targetId: String(i) })));
    expect(await verifyAudit(orm.em.fork())).toMatchObject({ ok: true, entries: 54 });
  });

  it('chains deferred entries (the workflow\'s) once their transaction commits, never a rolled-back one, in one chain with direct ones', async () => {
    const count = async (table: string) => Number((await orm.em.fork().execute<{ n: string }[]>(`select count(*) as n from ${table}`))[0]!.n);
    const before = await count('audit_events');
    // A deferred entry waits in audit_pending: written without the chain's lock, in its transaction.
    await orm.em.fork().transactional(async (tx) => {
      await appendAuditDeferred(tx, [
        { actor: 'workflow', action: 'test.deferred', targetType: 'thing', targetId: 'a', after: { n: 1, when: { b: 2, a: 1 } } },
        { actor: 'workflow', action: 'test.deferred', targetType: 'thing', targetId: 'b' },
      ]);
    });
    await expect(orm.em.fork().transactional(async (tx) => {
      await appendAuditDeferred(tx, { actor: 'workflow', action: 'test.rolled-back', targetType: 'thing', targetId: 'c' });
      throw new Error('the change fails');
    })).rejects.toThrow('the change fails');
    expect(await count('audit_pending')).toBe(2);
    expect(await count('audit_events')).toBe(before);
    // Sequencers on several replicas at once, with direct appends among them: one chain, each entry once.
    await Promise.all([
      chainPendingAudit(orm.em.fork()), chainPendingAudit(orm.em.fork()),
      appendAudit(orm.em.fork(), { actor: 'test', action: 'test.direct', targetType: 'thing', targetId: 'd' }),
      ...Array.from({ length: 20 }, (_, i) => orm.em.fork().transactional((tx) => appendAuditDeferred(tx, { actor: 'workflow', action: 'test.deferred', targetType: 'thing', targetId: `p${i}` }))),
    ]);
    // A reader chains what is pending before it reads.
    const listed = (await get('/api/v1/audit?action=test.deferred&limit=1000')).json().items as { targetId: string; after: unknown }[];
    expect(listed.map((e) => e.targetId).sort()).toEqual(['a', 'b', ...Array.from({ length: 20 }, (_, i) => `p${i}`)].sort());
    expect(listed.find((e) => e.targetId === 'a')!.after).toEqual({ n: 1, when: { a: 1, b: 2 } });
    expect(await count('audit_pending')).toBe(0);
    expect(await count('audit_events')).toBe(before + 23);
    expect((await get('/api/v1/audit?action=test.rolled-back')).json().items).toEqual([]);
    expect(await verifyAudit(orm.em.fork())).toMatchObject({ ok: true, entries: before + 23 });
  });

  it('pages by sequence number and exports JSON Lines', async () => {
    const first = (await get('/api/v1/audit?limit=10')).json();
    expect(first.items).toHaveLength(10);
    const second = (await get(`/api/v1/audit?limit=10&after=${first.nextAfter}`)).json();
    expect(second.items[0].seq).toBe(first.items[9].seq + 1);
    const exported = await get('/api/v1/audit/export?action=test.entry');
    expect(exported.statusCode).toBe(200);
    expect(exported.headers['content-type']).toMatch(/application\/x-ndjson/);
    const lines = exported.body.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(20);
    expect(lines.map((l) => l.targetId)).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
  });

  it('lets only admins, operators and auditors read it', async () => {
    expect((await get('/api/v1/audit', approverToken)).statusCode).toBe(403);
    expect((await get('/api/v1/audit', adminToken)).statusCode).toBe(200);
  });

  it('refuses to change or delete an entry', async () => {
    const conn = orm.em.fork().getConnection();
    await expect(conn.execute("update audit_events set actor = 'mallory' where seq = 5")).rejects.toThrow(/append-only/);
    await expect(conn.execute('delete from audit_events where seq = 5')).rejects.toThrow(/append-only/);
  });

  it('names the first broken link when an entry was edited behind the trigger\'s back', async () => {
    const conn = orm.em.fork().getConnection();
    await conn.execute('alter table audit_events disable trigger audit_events_append_only');
    await conn.execute(`update audit_events set after = '{"i": 99}'::jsonb where seq = 12`);
    await conn.execute('alter table audit_events enable trigger audit_events_append_only');
    const verdict = (await get('/api/v1/audit/verify')).json();
    expect(verdict).toMatchObject({ ok: false, firstBroken: { seq: 12, reason: expect.stringMatching(/do not match its hash/) } });
  });
});
