// Managing admin API tokens: only admins; a new token works at once and is shown only when created; a
// revoked one stops working; the last working admin token cannot be revoked; every change is audited.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { createOrm, migrate, type Orm } from '../../controller/src/db/orm.js';
import { createLogger } from '../../controller/src/log.js';
import { createApiServer } from '../../controller/src/api/server.js';
import { createAdminToken } from '../../controller/src/auth/admin-tokens.js';
import type { ControllerConfig } from '../../controller/src/config.js';

let db: TestDatabase;
let orm: Orm;
let app: FastifyInstance;
let root = { id: '', token: '' };

beforeAll(async () => {
  db = await createTestDatabase();
  orm = await createOrm(db.url);
  await orm.connect();
  await migrate(orm);
  root = await createAdminToken(orm.em.fork(), { name: 'root', role: 'admin' });
  app = await createApiServer({
    orm, log: createLogger('silent'),
    config: { checkInIntervalSeconds: 30, offlineAfterIntervals: 3, enrollmentTokenDefaultHours: 24 } as ControllerConfig,
    readiness: () => ({ database: true, nats: true, gateway: true }),
    agentCa: () => null,
  });
});

afterAll(async () => {
  await app?.close();
  await orm?.close();
  await db?.drop();
});

const call = (method: 'GET' | 'POST' | 'DELETE', url: string, token: string, payload?: object) =>
  app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload } : {}) });

describe('admin tokens', () => {
  it('creates a token that works at once, shown only in the answer that creates it', async () => {
    const created = await call('POST', '/api/v1/admin-tokens', root.token, { name: 'ops-bot', role: 'operator', expiresInDays: 30 });
    expect(created.statusCode).toBe(201);
    expect(created.headers['cache-control']).toBe('no-store');
    const { token, id } = created.json();
    expect((await call('GET', '/api/v1/agents', token)).statusCode).toBe(200);
    const list = (await call('GET', '/api/v1/admin-tokens', root.token)).json();
    expect(list.items.find((t: { id: string }) => t.id === id)).toMatchObject({ name: 'ops-bot', role: 'operator', revokedAt: null });
    expect(JSON.stringify(list)).not.toContain(token);
  });

  it('lets only admins manage tokens, and refuses bad requests with a problem', async () => {
    const operator = (await call('POST', '/api/v1/admin-tokens', root.token, { name: 'op', role: 'operator' })).json().token;
    expect((await call('GET', '/api/v1/admin-tokens', operator)).statusCode).toBe(403);
    expect((await call('POST', '/api/v1/admin-tokens', operator, { name: 'x', role: 'admin' })).statusCode).toBe(403);
    expect((await call('POST', '/api/v1/admin-tokens', root.token, { name: 'has space', role: 'admin' })).statusCode).toBe(400);
    expect((await call('POST', '/api/v1/admin-tokens', root.token, { name: 'x', role: 'superuser' })).statusCode).toBe(400);
    expect((await call('DELETE', `/api/v1/admin-tokens/${crypto.randomUUID()}`, root.token)).statusCode).toBe(404);
  });

  it('stops a revoked token from working and records who revoked it', async () => {
    const created = (await call('POST', '/api/v1/admin-tokens', root.token, { name: 'temp', role: 'auditor' })).json();
    const revoked = await call('DELETE', `/api/v1/admin-tokens/${created.id}`, root.token);
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json().revokedAt).not.toBeNull();
    expect((await call('GET', '/api/v1/agents', created.token)).statusCode).toBe(401);
    const audit = (await call('GET', `/api/v1/audit?action=admin-token.revoke&targetId=${created.id}`, root.token)).json();
    expect(audit.items).toEqual([expect.objectContaining({ actor: 'token:root', targetId: created.id })]);
  });

  it('is managed from certflowctl too', async () => {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address() as { port: number };
    const { runTsx } = await import('../support/processes.js');
    const ctl = async (...args: string[]) => {
      const p = runTsx('controller/src/cli/main.ts', [...args, '--url', `http://127.0.0.1:${address.port}`, '--token', root.token], {});
      return { code: await p.exited, out: p.output() };
    };
    const created = await ctl('admin-tokens', 'create', '--name', 'cli-made', '--role', 'auditor');
    expect(created.code).toBe(0);
    expect(created.out).toMatch(/admin token "cli-made" \(auditor\) created; it is shown only now:\n {2}cfa_\S+/);
    const list = await ctl('admin-tokens', 'list');
    expect(list.out).toMatch(/cli-made\s+auditor/);
    const id = /^([0-9a-f-]{36})\s+cli-made/m.exec(list.out)![1];
    expect((await ctl('admin-tokens', 'revoke', id)).out).toContain('admin token "cli-made" revoked');
    expect((await ctl('admin-tokens', 'revoke', root.id)).code).toBe(1);
  });

  it('refuses to revoke the last working admin token', async () => {
    const refused = await call('DELETE', `/api/v1/admin-tokens/${root.id}`, root.token);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().detail).toMatch(/last working admin token/);
    expect((await call('GET', '/api/v1/agents', root.token)).statusCode).toBe(200);
    const second = (await call('POST', '/api/v1/admin-tokens', root.token, { name: 'root2', role: 'admin' })).json();
    expect((await call('DELETE', `/api/v1/admin-tokens/${root.id}`, second.token)).statusCode).toBe(200);
    expect((await call('GET', '/api/v1/agents', root.token)).statusCode).toBe(401);
  });
});
