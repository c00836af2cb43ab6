// The admin API against a real Postgres: authentication and roles, enrolment tokens, the agent and
// certificate inventory with its filters, and the problem documents every bad request gets.
import type { EntityManager } from '@mikro-orm/postgresql';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { x509, ECDSA_P256, generateEcKeyPair } from '../../proto/shared/x509.js';
import { createApiServer } from '../../controller/src/api/server.js';
import { createAdminToken } from '../../controller/src/auth/admin-tokens.js';
import type { ControllerConfig } from '../../controller/src/config.js';
import { Agent, Certificate, CertificateLocation, EnrollmentToken } from '../../controller/src/db/entities/index.js';
import { createOrm, migrate, type Orm } from '../../controller/src/db/orm.js';
import { createLogger } from '../../controller/src/log.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const config = { checkInIntervalSeconds: 30, offlineAfterIntervals: 3, enrollmentTokenDefaultHours: 24 } as ControllerConfig;
const agentCaMaterial = { certPem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n', fingerprintSha256: 'ab'.repeat(32) };

let db: TestDatabase;
let orm: Orm;
/** The EntityManager the fixtures are written with (the global one refuses to hold entities). */
let seed: EntityManager;
let app: FastifyInstance;
let agentCa: typeof agentCaMaterial | null = agentCaMaterial;
const tokens: Record<'admin' | 'operator' | 'auditor' | 'approver', string> = { admin: '', operator: '', auditor: '', approver: '' };
const agents: Record<'web1' | 'web2' | 'idle', string> = { web1: '', web2: '', idle: '' };
const certs: Record<'expired' | 'soon' | 'later' | 'removed' | 'real' | 'odd', string> =
  { expired: '', soon: '', later: '', removed: '', real: '', odd: '' };
let realPem = '';

function addAgent(name: string, hostname: string, lastSeenAt: Date | null, scanProblems: Array<{ path: string; message: string }> = []): string {
  const id = crypto.randomUUID();
  seed.create(Agent, {
    id, name, certificateSerial: '01', previousCertificateSerial: null, certificateNotAfter: new Date(Date.now() + 30 * DAY),
    enrolledAt: new Date(Date.now() - 10 * DAY), enrolledWithTokenId: 'abcdefabcdef', lastSeenAt, lastCheckInAt: lastSeenAt,
    lastInventoryAt: null, scanProblems, revokedAt: null,
    hostFacts: { hostname, osPlatform: 'linux', osDistro: 'Debian GNU/Linux', osRelease: '12', kernel: '6.1', arch: 'x64',
      ipAddresses: ['10.0.0.1'], agentVersion: '0.1.0', cpuCores: 2, memoryBytes: '1024' },
  });
  return id;
}

function addCertificate(subject: string, sans: string[], notAfter: Date, der: Buffer = Buffer.from('x')): string {
  const id = crypto.randomUUID();
  seed.create(Certificate, {
    id, fingerprintSha256: id.replaceAll('-', ''), der, subject, issuer: 'CN=Test CA', serialNumber: id.slice(0, 8), sans,
    searchText: [subject, ...sans].join('\n').toLowerCase(), notBefore: new Date(notAfter.getTime() - 90 * DAY), notAfter,
    keyAlgorithm: 'EC', keySize: 256, curve: 'P-256', signatureAlgorithm: 'ecdsa-with-SHA256', selfSigned: false, isCa: false,
    firstSeenAt: new Date(), lastSeenAt: new Date(),
  });
  return id;
}

function addLocation(certificate: string, agent: string, path: string, removedAt: Date | null = null): void {
  seed.create(CertificateLocation, {
    id: crypto.randomUUID(), certificate, agent, path, position: 0, format: 'pem',
    firstSeenAt: new Date(Date.now() - DAY), lastSeenAt: new Date(), removedAt,
  });
}

async function realCertificateDer(): Promise<Buffer> {
  const keys = await generateEcKeyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '0a1b', name: 'CN=real.example.com', keys, signingAlgorithm: ECDSA_P256,
    notBefore: new Date(Date.now() - DAY), notAfter: new Date(Date.now() + 100 * DAY + HOUR),
  });
  realPem = cert.toString('pem');
  return Buffer.from(cert.rawData);
}

beforeAll(async () => {
  db = await createTestDatabase();
  orm = await createOrm(db.url);
  await migrate(orm);
  seed = orm.em.fork();
  for (const role of ['admin', 'operator', 'auditor', 'approver'] as const) {
    tokens[role] = (await createAdminToken(orm.em.fork(), { name: `${role}-token`, role })).token;
  }
  const now = Date.now();
  agents.web1 = addAgent('web-1', 'web1.example.com', new Date(now - 10_000), [{ path: '/etc/ssl/x.pem', message: 'permission denied' }]);
  agents.web2 = addAgent('web-2', 'web2.example.com', new Date(now - 200_000));
  agents.idle = addAgent('idle', 'idle.example.com', null);
  // An hour past whole days, so daysLeft is the same whenever during the test it is computed.
  certs.expired = addCertificate('CN=old.example.net', ['old.example.net'], new Date(now - 3 * DAY + HOUR));
  certs.soon = addCertificate('CN=shop.example.com', ['shop.example.com', 'www.shop.example.com'], new Date(now + 5 * DAY + HOUR));
  certs.later = addCertificate('CN=api.example.org', ['api.example.org'], new Date(now + 40 * DAY + HOUR));
  certs.removed = addCertificate('CN=gone.example.com', ['gone.example.com'], new Date(now + 2 * DAY + HOUR));
  certs.real = addCertificate('CN=real.example.com', [], new Date(now + 100 * DAY + HOUR), await realCertificateDer());
  certs.odd = addCertificate('CN=under_score%pct.example', [], new Date(now + 200 * DAY + HOUR));
  addLocation(certs.expired, agents.web1, '/etc/ssl/old.pem');
  addLocation(certs.soon, agents.web1, '/etc/ssl/shop.pem');
  addLocation(certs.later, agents.web2, '/etc/ssl/api.pem');
  addLocation(certs.removed, agents.web1, '/etc/ssl/gone.pem', new Date());
  addLocation(certs.real, agents.web1, '/etc/nginx/real.pem');
  addLocation(certs.real, agents.web2, '/etc/nginx/real-old.pem', new Date());
  addLocation(certs.odd, agents.web2, '/etc/ssl/odd.pem');
  await seed.flush();
  app = await createApiServer({
    orm, log: createLogger(process.env.TEST_LOG ?? 'silent'), config,
    readiness: () => ({ database: true, nats: false, gateway: true }),
    agentCa: () => agentCa,
  });
});

afterAll(async () => {
  await app?.close();
  await orm?.close();
  await db?.drop();
});

function get(url: string, role: keyof typeof tokens = 'auditor'): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${tokens[role]}` } });
}

function postToken(role: keyof typeof tokens, payload?: unknown, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST', url: '/api/v1/enrollment-tokens',
    headers: { authorization: `Bearer ${tokens[role]}`, ...headers },
    ...(payload === undefined ? {} : { payload: payload as string }),
  });
}

function expectProblem(res: LightMyRequestResponse, status: number): Record<string, unknown> {
  expect(res.statusCode).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = res.json();
  expect(body).toEqual({ type: expect.stringMatching(/^urn:certflow:problem:/), title: expect.any(String), status, detail: expect.any(String) });
  expect(res.body).not.toMatch(/\bat .*\.(ts|js):\d+/);
  return body;
}

const subjects = (res: LightMyRequestResponse) => (res.json().items as Array<{ subject: string }>).map((c) => c.subject);

describe('health', () => {
  it('answers /healthz without a token', async () => {
    const res = await app.inject('/healthz');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('answers /readyz with 503 and the failing dependency while NATS is down', async () => {
    const res = await app.inject('/readyz');
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ database: true, nats: false });
  });
});

describe('authentication and roles', () => {
  it('refuses a request without a token with 401', async () => {
    const res = await app.inject('/api/v1/agents');
    expect(expectProblem(res, 401).title).toBe('Authentication required');
    expect(res.headers['www-authenticate']).toBe('Bearer');
  });

  it('refuses an unknown token with 401', async () => {
    expectProblem(await app.inject({ url: '/api/v1/agents', headers: { authorization: 'Bearer cfa_not-a-real-token' } }), 401);
  });

  it('refuses a token without the Bearer scheme with 401', async () => {
    expectProblem(await app.inject({ url: '/api/v1/agents', headers: { authorization: tokens.admin } }), 401);
  });

  it('lets auditors and approvers read but not create enrolment tokens', async () => {
    expect((await get('/api/v1/certificates', 'auditor')).statusCode).toBe(200);
    expect((await get('/api/v1/agents', 'approver')).statusCode).toBe(200);
    expect(expectProblem(await postToken('auditor', {}), 403).detail).toContain('auditor');
    expectProblem(await postToken('approver', {}), 403);
  });

  it('checks the token before it looks at the request body', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/enrollment-tokens', headers: { 'content-type': 'application/json' }, payload: '{bad' });
    expectProblem(res, 401);
  });
});

describe('enrolment tokens', () => {
  it('lets an operator create one with the default lifetime and the CA pin', async () => {
    const before = Date.now();
    const res = await postToken('operator', { description: 'web-3' });
    expect(res.statusCode).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json();
    expect(body.token).toMatch(new RegExp(`^${body.id}\\.[A-Za-z0-9_-]{20,}$`));
    expect(body.caFingerprintSha256).toBe(agentCaMaterial.fingerprintSha256);
    expect(body.caPem).toBe(agentCaMaterial.certPem);
    const expiresAt = Date.parse(body.expiresAt);
    expect(expiresAt).toBeGreaterThanOrEqual(before + 24 * HOUR);
    expect(expiresAt).toBeLessThan(Date.now() + 24 * HOUR + 1000);
    const row = await orm.em.fork().findOneOrFail(EnrollmentToken, { id: body.id });
    expect(row).toMatchObject({ description: 'web-3', createdBy: 'operator-token', usedAt: null });
    expect(row.secretHash).not.toContain(body.token.split('.')[1]);
  });

  it('honours expiresInHours and accepts an empty POST', async () => {
    const res = await postToken('admin', { expiresInHours: 2 });
    expect(res.statusCode).toBe(201);
    expect(Math.abs(Date.parse(res.json().expiresAt) - (Date.now() + 2 * HOUR))).toBeLessThan(5000);
    expect((await postToken('admin')).statusCode).toBe(201);
  });

  it('answers 503 while the agent CA is not available', async () => {
    agentCa = null;
    try {
      expectProblem(await postToken('admin', {}), 503);
    } finally {
      agentCa = agentCaMaterial;
    }
  });
});

describe('agents', () => {
  it('lists agents by name and derives online from the last time each was seen', async () => {
    const res = await get('/api/v1/agents');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ total: 3, limit: 50, offset: 0 });
    expect(body.items.map((a: { name: string; online: boolean }) => [a.name, a.online]))
      .toEqual([['idle', false], ['web-1', true], ['web-2', false]]);
    expect(body.items[1]).toMatchObject({
      id: agents.web1, hostname: 'web1.example.com', os: 'Debian GNU/Linux 12', agentVersion: '0.1.0',
      ipAddresses: ['10.0.0.1'], scanProblemCount: 1, lastCheckInAt: expect.any(String), certificateNotAfter: expect.any(String),
    });
    expect(body.items[0].lastSeenAt).toBeNull();
  });

  it('pages agents with limit and offset', async () => {
    const body = (await get('/api/v1/agents?limit=1&offset=2')).json();
    expect(body).toMatchObject({ total: 3, limit: 1, offset: 2 });
    expect(body.items.map((a: { name: string }) => a.name)).toEqual(['web-2']);
  });

  it('shows one agent with its scan problems', async () => {
    const res = await get(`/api/v1/agents/${agents.web1}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ name: 'web-1', online: true, scanProblems: [{ path: '/etc/ssl/x.pem', message: 'permission denied' }] });
  });

  it('answers 404 for an unknown agent', async () => {
    expectProblem(await get(`/api/v1/agents/${crypto.randomUUID()}`), 404);
  });
});

describe('certificates', () => {
  it('lists certificates that are somewhere now, soonest expiry first', async () => {
    const res = await get('/api/v1/certificates');
    expect(res.statusCode).toBe(200);
    expect(res.json().total).toBe(5);
    expect(subjects(res)).toEqual(['CN=old.example.net', 'CN=shop.example.com', 'CN=api.example.org', 'CN=real.example.com', 'CN=under_score%pct.example']);
    const [expired, soon] = res.json().items;
    expect(expired).toMatchObject({ id: certs.expired, daysLeft: -3, locationCount: 1, keyAlgorithm: 'EC', curve: 'P-256' });
    expect(soon).toMatchObject({ daysLeft: 5, sans: ['shop.example.com', 'www.shop.example.com'] });
    expect(soon).not.toHaveProperty('pem');
  });

  it('filters by expiry, counting expired certificates as expiring', async () => {
    expect(subjects(await get('/api/v1/certificates?expiringWithinDays=7'))).toEqual(['CN=old.example.net', 'CN=shop.example.com']);
    expect(subjects(await get('/api/v1/certificates?expiringWithinDays=0'))).toEqual(['CN=old.example.net']);
  });

  it('includes certificates no longer found anywhere when asked', async () => {
    const res = await get('/api/v1/certificates?expiringWithinDays=7&includeRemoved=true');
    expect(subjects(res)).toEqual(['CN=old.example.net', 'CN=gone.example.com', 'CN=shop.example.com']);
    expect(res.json().items[1].locationCount).toBe(0);
  });

  it('filters by host given as agent name, hostname or agent id, current locations only', async () => {
    expect(subjects(await get('/api/v1/certificates?host=web-1'))).toEqual(['CN=old.example.net', 'CN=shop.example.com', 'CN=real.example.com']);
    expect(subjects(await get('/api/v1/certificates?host=web2.example.com'))).toEqual(['CN=api.example.org', 'CN=under_score%pct.example']);
    expect(subjects(await get(`/api/v1/certificates?host=${agents.web2}`))).toEqual(['CN=api.example.org', 'CN=under_score%pct.example']);
    expect((await get('/api/v1/certificates?host=nowhere')).json()).toMatchObject({ items: [], total: 0 });
  });

  it('searches subject and SANs case-insensitively, with % and _ taken literally', async () => {
    expect(subjects(await get('/api/v1/certificates?q=WWW.SHOP'))).toEqual(['CN=shop.example.com']);
    expect(subjects(await get('/api/v1/certificates?q=_'))).toEqual(['CN=under_score%pct.example']);
    expect(subjects(await get('/api/v1/certificates?q=%25'))).toEqual(['CN=under_score%pct.example']);
    expect(subjects(await get('/api/v1/certificates?q=example.com&host=web-1'))).toEqual(['CN=shop.example.com', 'CN=real.example.com']);
  });

  it('pages with totals that count the whole filtered set', async () => {
    const body = (await get('/api/v1/certificates?limit=2&offset=1')).json();
    expect(body).toMatchObject({ total: 5, limit: 2, offset: 1 });
    expect(body.items.map((c: { subject: string }) => c.subject)).toEqual(['CN=shop.example.com', 'CN=api.example.org']);
    const filtered = (await get('/api/v1/certificates?expiringWithinDays=50&limit=1')).json();
    expect(filtered).toMatchObject({ total: 3, limit: 1 });
  });

  it('shows one certificate with its PEM and every location, current ones first', async () => {
    const res = await get(`/api/v1/certificates/${certs.real}`);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.pem.trim()).toBe(realPem.trim());
    expect(body).toMatchObject({ subject: 'CN=real.example.com', locationCount: 1, daysLeft: 100 });
    expect(body.locations).toEqual([
      expect.objectContaining({ agentId: agents.web1, agentName: 'web-1', path: '/etc/nginx/real.pem', position: 0, format: 'pem', removedAt: null }),
      expect.objectContaining({ agentId: agents.web2, agentName: 'web-2', path: '/etc/nginx/real-old.pem', removedAt: expect.any(String) }),
    ]);
  });

  it('answers 404 for an unknown certificate', async () => {
    expect(expectProblem(await get(`/api/v1/certificates/${crypto.randomUUID()}`), 404).detail).toContain('no certificate');
  });
});

describe('malformed requests', () => {
  it.each([
    ['limit=0', '/api/v1/certificates?limit=0'],
    ['limit=abc', '/api/v1/certificates?limit=abc'],
    ['limit above 500', '/api/v1/agents?limit=501'],
    ['a negative offset', '/api/v1/agents?offset=-1'],
    ['a fractional expiringWithinDays', '/api/v1/certificates?expiringWithinDays=1.5'],
    ['includeRemoved=yes', '/api/v1/certificates?includeRemoved=yes'],
    ['an unknown query parameter', '/api/v1/certificates?expiring=3'],
    ['an agent id that is not a uuid', '/api/v1/agents/42'],
    ['a certificate id that is not a uuid', '/api/v1/certificates/not-a-uuid'],
    ['a path that is not valid percent-encoding', '/api/v1/certificates/%zz'],
  ])('answers %s with a 400 problem', async (_name, url) => {
    expectProblem(await get(url), 400);
  });

  it.each([
    ['bad JSON', '{"description": ', 400],
    ['an unknown field', JSON.stringify({ description: 'x', role: 'admin' }), 400],
    ['a number as text', JSON.stringify({ expiresInHours: '24' }), 400],
    ['hours out of range', JSON.stringify({ expiresInHours: 8761 }), 400],
    ['a description too long', JSON.stringify({ description: 'x'.repeat(201) }), 400],
    ['an array', '[]', 400],
    ['a huge body', JSON.stringify({ description: 'x'.repeat(100_000) }), 413],
  ])('answers a body with %s with a problem', async (_name, payload, status) => {
    expectProblem(await postToken('admin', payload, { 'content-type': 'application/json' }), status);
  });

  it('names the offending field in the detail', async () => {
    const body = expectProblem(await postToken('admin', { surprise: true }), 400);
    expect(body.detail).toContain('surprise');
    expect(expectProblem(await get('/api/v1/agents?limit=0'), 400).detail).toContain('limit');
  });

  it('answers unknown routes and methods with a 404 problem', async () => {
    expectProblem(await get('/api/v1/nothing-here'), 404);
    expectProblem(await app.inject({ method: 'DELETE', url: `/api/v1/certificates/${certs.real}`, headers: { authorization: `Bearer ${tokens.admin}` } }), 404);
  });
});

describe('OpenAPI document', () => {
  const routes: Array<[string, string, boolean]> = [
    ['get', '/healthz', false],
    ['get', '/readyz', false],
    ['get', '/api/v1/openapi.json', false],
    ['post', '/api/v1/enrollment-tokens', true],
    ['get', '/api/v1/agents', true],
    ['get', '/api/v1/agents/{id}', true],
    ['get', '/api/v1/certificates', true],
    ['get', '/api/v1/certificates/{id}', true],
    ['post', '/api/v1/agents/{id}/rescan', true],
    ['put', '/api/v1/agents/{id}/network-scan', true],
    ['get', '/api/v1/findings', true],
    ['get', '/api/v1/endpoints', true],
    ['post', '/api/v1/agents/{id}/csr', true],
    ['post', '/api/v1/agents/{id}/deploy', true],
    ['post', '/api/v1/agents/{id}/validate', true],
    ['post', '/api/v1/agents/{id}/rollback', true],
    ['get', '/api/v1/agent-jobs/{id}', true],
    ['get', '/api/v1/admin-tokens', true],
    ['post', '/api/v1/admin-tokens', true],
    ['delete', '/api/v1/admin-tokens/{id}', true],
    ['get', '/api/v1/audit', true],
    ['get', '/api/v1/audit/export', true],
    ['get', '/api/v1/audit/verify', true],
    ['get', '/api/v1/templates', true],
    ['post', '/api/v1/templates', true],
    ['get', '/api/v1/templates/{name}', true],
    ['put', '/api/v1/templates/{name}', true],
    ['delete', '/api/v1/templates/{name}', true],
    ['get', '/api/v1/templates/{name}/versions', true],
    ['get', '/api/v1/templates/{name}/versions/{version}', true],
    ['get', '/api/v1/cas', true],
    ['post', '/api/v1/cas', true],
    ['put', '/api/v1/cas/{name}', true],
    ['post', '/api/v1/cas/{name}/revoke', true],
    ['get', '/api/v1/notification-channels', true],
    ['post', '/api/v1/notification-channels', true],
    ['get', '/api/v1/notification-channels/{name}', true],
    ['patch', '/api/v1/notification-channels/{name}', true],
    ['delete', '/api/v1/notification-channels/{name}', true],
    ['post', '/api/v1/notification-channels/{name}/test', true],
    ['get', '/api/v1/notification-deliveries', true],
    ['patch', '/api/v1/agents/{id}', true],
    ['get', '/api/v1/secrets', true],
    ['put', '/api/v1/secrets/{name}', true],
    ['delete', '/api/v1/secrets/{name}', true],
    ['get', '/api/v1/managed-certificates', true],
    ['post', '/api/v1/managed-certificates', true],
    ['get', '/api/v1/managed-certificates/{id}', true],
    ['patch', '/api/v1/managed-certificates/{id}', true],
    ['post', '/api/v1/managed-certificates/{id}/renew', true],
    ['get', '/api/v1/runs', true],
    ['get', '/api/v1/runs/{id}', true],
    ['post', '/api/v1/runs/{id}/cancel', true],
    ['post', '/api/v1/runs/{id}/retry', true],
    ['post', '/api/v1/runs/{id}/rollback', true],
    ['post', '/api/v1/runs/{id}/accept', true],
    ['get', '/api/v1/approvals', true],
    ['post', '/api/v1/approvals/{id}/decision', true],
    ['get', '/approve/{token}', false],
    ['post', '/approve/{token}', false],
    ['get', '/crl/{file}', false],
    ['get', '/ca/{file}', false],
  ];

  it('documents every route, its parameters, responses and the bearer scheme', async () => {
    const res = await app.inject('/api/v1/openapi.json');
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>)
      .flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method} ${path}`));
    expect(documented.sort()).toEqual(routes.map(([method, path]) => `${method} ${path}`).sort());
    for (const [method, path, authenticated] of routes) {
      const operation = doc.paths[path][method];
      const created = method === 'post' && (path === '/api/v1/enrollment-tokens' || path === '/api/v1/admin-tokens' || path === '/api/v1/templates'
        || path === '/api/v1/notification-channels' || path === '/api/v1/managed-certificates' || path === '/api/v1/cas');
      const accepted = (path.startsWith('/api/v1/agents/') && /\/(rescan|network-scan|csr|deploy|validate|rollback)$/.test(path)) || path.endsWith('/renew');
      expect(operation.responses, `${method} ${path}`).toHaveProperty(created ? '201' : accepted ? '202' : '200');
      expect(operation.security ?? doc.security, `${method} ${path}`).toEqual(authenticated ? [{ bearerAuth: [] }] : []);
    }
    const listParameters = doc.paths['/api/v1/certificates'].get.parameters.map((p: { name: string }) => p.name);
    expect(listParameters.sort()).toEqual(['expiringWithinDays', 'host', 'includeRemoved', 'limit', 'offset', 'q']);
    expect(doc.paths['/api/v1/certificates/{id}'].get.parameters[0]).toMatchObject({ name: 'id', in: 'path', required: true });
    expect(doc.paths['/api/v1/enrollment-tokens'].post.requestBody.content['application/json'].schema.properties)
      .toHaveProperty('expiresInHours');
    expect(doc.paths['/api/v1/agents/{id}'].get.responses['404'].content).toHaveProperty(['application/problem+json']);
  });
});

describe('agent actions', () => {
  const send = (method: 'POST' | 'PUT', url: string, role: keyof typeof tokens, payload?: unknown) =>
    app.inject({ method, url, headers: { authorization: `Bearer ${tokens[role]}` }, ...(payload === undefined ? {} : { payload: payload as object }) });

  it('queues a rescan job for an operator and refuses an auditor', async () => {
    const res = await send('POST', `/api/v1/agents/${agents.web1}/rescan`, 'operator');
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ kind: 'rescan', state: 'pending' });
    const rows = await seed.getConnection().execute('select kind, state, requested_by from agent_jobs where id = ?', [res.json().jobId]);
    expect(rows).toEqual([{ kind: 'rescan', state: 'pending', requested_by: expect.any(String) }]);
    expectProblem(await send('POST', `/api/v1/agents/${agents.web1}/rescan`, 'auditor'), 403);
    expectProblem(await send('POST', `/api/v1/agents/${crypto.randomUUID()}/rescan`, 'operator'), 404);
  });

  it('stores a network scan assignment and queues it for the agent', async () => {
    const res = await send('PUT', `/api/v1/agents/${agents.web2}/network-scan`, 'admin', { ranges: ['127.0.0.0/30'], ports: [443, 8443] });
    expect(res.statusCode).toBe(202);
    const [row] = await seed.getConnection().execute('select network_scan from agents where id = ?', [agents.web2]);
    expect(row.network_scan).toEqual({ ranges: ['127.0.0.0/30'], ports: [443, 8443] });
  });

  it('refuses a malformed network scan assignment with a problem', async () => {
    expectProblem(await send('PUT', `/api/v1/agents/${agents.web2}/network-scan`, 'admin', { ranges: ['everything'], ports: [443] }), 400);
    expectProblem(await send('PUT', `/api/v1/agents/${agents.web2}/network-scan`, 'admin', { ranges: ['10.0.0.0/8'], ports: [70000] }), 400);
    expectProblem(await send('PUT', `/api/v1/agents/${agents.web2}/network-scan`, 'admin', { ranges: [] }), 400);
  });

  it('lists findings and endpoints, and refuses an unknown finding kind', async () => {
    const findings = await get('/api/v1/findings?kind=expired');
    expect(findings.statusCode).toBe(200);
    expect(findings.json().items.map((f: { subject: string }) => f.subject)).toEqual(['CN=old.example.net']);
    expect((await get('/api/v1/endpoints')).statusCode).toBe(200);
    expectProblem(await get('/api/v1/findings?kind=nonsense'), 400);
  });
});
