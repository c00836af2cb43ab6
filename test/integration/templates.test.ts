// Workflow templates through the real admin API on a real Postgres: the built-in default, create, read,
// update (new versions, optimistic concurrency), archive, audit rows in the same transaction, roles, each
// kind of bad document refused with its field and leaving nothing behind, the store the workflow engine
// reads, and certflowctl templates.
import type { EntityManager } from '@mikro-orm/postgresql';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiServer } from '../../controller/src/api/server.js';
import { createAdminToken } from '../../controller/src/auth/admin-tokens.js';
import { revokeAdminToken } from '../../controller/src/auth/revoke-admin-token.js';
import type { ControllerConfig } from '../../controller/src/config.js';
import { Agent, CertificateAuthority } from '../../controller/src/db/entities/index.js';
import { createOrm, migrate, type Orm } from '../../controller/src/db/orm.js';
import { createLogger } from '../../controller/src/log.js';
import { defaultTemplateDocument } from '../../controller/src/templates/template-document.js';
import { getTemplateVersion, listTemplatesWithMatch } from '../../controller/src/templates/template-store.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { runTsx } from '../support/processes.js';

const DAY = 86_400_000;
const KEY_TYPES = ['ecdsa-p256', 'ecdsa-p384', 'rsa-2048', 'rsa-3072', 'rsa-4096'] as const;

let db: TestDatabase;
let orm: Orm;
let app: FastifyInstance;
const tokens = { admin: '', operator: '', approver: '', auditor: '' };
const ids = { approver: '', auditor: '', revoked: '', agent: '', revokedAgent: '' };

function addAgent(em: EntityManager, name: string, revokedAt: Date | null): string {
  const id = crypto.randomUUID();
  em.create(Agent, {
    id, name, certificateSerial: '01', previousCertificateSerial: null, certificateNotAfter: new Date(Date.now() + 30 * DAY),
    enrolledAt: new Date(), enrolledWithTokenId: 'abcdefabcdef', lastSeenAt: null, lastCheckInAt: null, lastInventoryAt: null,
    scanProblems: [], revokedAt,
    hostFacts: { hostname: `${name}.example.com`, osPlatform: 'linux', osDistro: 'Debian GNU/Linux', osRelease: '12', kernel: '6.1',
      arch: 'x64', ipAddresses: ['10.0.0.1'], agentVersion: '0.1.0', cpuCores: 2, memoryBytes: '1024' },
  });
  return id;
}

function addCa(em: EntityManager, name: string, policy: { maxValidityDays: number; keyTypes: string[] }, disabled = false): void {
  em.create(CertificateAuthority, {
    id: crypto.randomUUID(), name, kind: 'internal', config: {}, createdAt: new Date(), disabled,
    policy: { allowedDomains: [], maxValidityDays: policy.maxValidityDays, keyTypes: policy.keyTypes as typeof KEY_TYPES[number][] },
  });
}

beforeAll(async () => {
  db = await createTestDatabase();
  orm = await createOrm(db.url);
  await orm.connect();
  await migrate(orm);
  for (const role of ['admin', 'operator', 'approver', 'auditor'] as const) {
    const created = await createAdminToken(orm.em.fork(), { name: `${role}-token`, role });
    tokens[role] = created.token;
    if (role === 'approver' || role === 'auditor') ids[role] = created.id;
  }
  ids.revoked = (await createAdminToken(orm.em.fork(), { name: 'gone', role: 'approver' })).id;
  await revokeAdminToken(orm.em.fork(), ids.revoked, 'test');
  const em = orm.em.fork();
  ids.agent = addAgent(em, 'web-1', null);
  ids.revokedAgent = addAgent(em, 'old-1', new Date());
  addCa(em, 'short-ca', { maxValidityDays: 30, keyTypes: [...KEY_TYPES] });
  addCa(em, 'rsa-only', { maxValidityDays: 365, keyTypes: ['rsa-2048'] });
  addCa(em, 'off-ca', { maxValidityDays: 90, keyTypes: [...KEY_TYPES] }, true);
  await em.flush();
  app = await createApiServer({
    orm, log: createLogger(process.env.TEST_LOG ?? 'silent'),
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

type Role = keyof typeof tokens;
function call(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, role: Role = 'operator', payload?: object, headers: Record<string, string> = {}):
  Promise<LightMyRequestResponse> {
  return app.inject({ method, url, headers: { authorization: `Bearer ${tokens[role]}`, ...headers }, ...(payload ? { payload } : {}) });
}
const create = (name: string, document: object, role: Role = 'operator') => call('POST', '/api/v1/templates', role, { name, document });
const update = (name: string, document: object, headers: Record<string, string> = {}, expectedVersion?: number) =>
  call('PUT', `/api/v1/templates/${name}`, 'operator', { document, ...(expectedVersion ? { expectedVersion } : {}) }, headers);

async function auditRows(templateId: string): Promise<Array<{ action: string; actor: string; before: unknown; after: unknown }>> {
  const res = await call('GET', `/api/v1/audit?targetType=template&targetId=${templateId}`, 'admin');
  return res.json().items;
}

async function counts(): Promise<{ templates: number; versions: number; audit: number }> {
  const [row] = await orm.em.fork().execute<Array<{ t: string; v: string; a: string }>>(
    'select (select count(*) from templates) t, (select count(*) from template_versions) v, (select count(*) from audit_events) a');
  return { templates: Number(row.t), versions: Number(row.v), audit: Number(row.a) };
}

describe('the built-in template', () => {
  it('exists from the first migration with every default, and cannot be archived', async () => {
    const list = await call('GET', '/api/v1/templates', 'auditor');
    expect(list.statusCode).toBe(200);
    expect(list.json().items).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'default', currentVersion: 1, autoAdopts: false })]));
    const res = await call('GET', '/api/v1/templates/default', 'approver');
    expect(res.statusCode).toBe(200);
    expect(res.headers.etag).toBe('"1"');
    const { description, ...document } = res.json().document;
    expect(description).toMatch(/built-in/);
    expect(document).toEqual(defaultTemplateDocument());
    const refused = await call('DELETE', '/api/v1/templates/default', 'admin');
    expect(refused.statusCode).toBe(409);
    expect(refused.headers['content-type']).toMatch(/application\/problem\+json/);
  });
});

describe('create, read, update, archive', () => {
  const web = {
    description: 'Public web servers',
    match: { domainPatterns: ['*.shop.example'], labels: { env: 'prod' } },
    renewal: { daysBeforeExpiry: 20, percentOfLifetime: 30 },
    ca: { policy: [{ ca: 'short-ca', when: { domainSuffixes: ['shop.example'] } }, { ca: 'builtin' }] },
    approval: { gates: [{ before: 'deploy', levels: [{ name: 'change-board', approvers: { roles: ['approver'], tokens: [] as string[] }, required: 1 }] }] },
    deploy: { targets: [] as object[], maintenanceWindows: [{ days: ['sat'], start: '22:00', end: '04:00', timeZone: 'Europe/Berlin' }] },
    notifications: { rules: [{ events: ['run.failed', 'approval.required'], channels: ['ops-mail'] }] },
    rollback: { policy: 'manual' },
  };

  it('keeps every version, audits each write with before and after, and honours If-Match', async () => {
    web.approval.gates[0].levels[0].approvers.tokens = [ids.approver];
    web.deploy.targets = [{ agentId: ids.agent, kind: 'nginx', options: { site: 'shop' }, endpoints: [{ host: '127.0.0.1', port: 443, serverName: 'www.shop.example' }] }];
    const created = await create('web-prod', web);
    expect(created.statusCode).toBe(201);
    expect(created.headers.location).toBe('/api/v1/templates/web-prod');
    expect(created.headers.etag).toBe('"1"');
    const v1 = created.json();
    expect(v1).toMatchObject({ name: 'web-prod', version: 1, currentVersion: 1, autoAdopts: true, createdBy: 'token:operator-token', archivedAt: null });
    // Stored with its defaults filled in.
    expect(v1.document.renewal).toEqual({ daysBeforeExpiry: 20, percentOfLifetime: 30, useAri: true, jitterMinutes: 60 });
    expect(v1.document.key).toEqual({ type: 'ecdsa-p256', multiHost: 'per-host' });
    expect(v1.document.approval.gates[0].deadlineHours).toBe(24);

    const read = await call('GET', '/api/v1/templates/web-prod', 'auditor');
    expect(read.json().document).toEqual(v1.document);
    expect(read.headers.etag).toBe('"1"');

    const v2 = await update('web-prod', { ...web, renewal: { daysBeforeExpiry: 15 } }, { 'if-match': read.headers.etag as string });
    expect(v2.statusCode).toBe(200);
    expect(v2.headers.etag).toBe('"2"');
    expect(v2.json()).toMatchObject({ version: 2, currentVersion: 2 });

    // A writer still holding version 1 is refused, and told where the template is now.
    const stale = await update('web-prod', { ...web, renewal: { daysBeforeExpiry: 10 } }, { 'if-match': '"1"' });
    expect(stale.statusCode).toBe(409);
    expect(stale.json()).toMatchObject({ status: 409, currentVersion: 2 });
    expect((await update('web-prod', web, {}, 1)).statusCode).toBe(409);
    expect((await update('web-prod', web, { 'if-match': '"2"' }, 1)).statusCode).toBe(400);
    expect((await update('web-prod', web, { 'if-match': 'yesterday' })).statusCode).toBe(400);

    const v3 = await update('web-prod', { ...web, rollback: { policy: 'automatic' } }, {}, 2);
    expect(v3.json()).toMatchObject({ version: 3 });

    const versions = (await call('GET', '/api/v1/templates/web-prod/versions', 'approver')).json();
    expect(versions.items.map((v: { version: number; current: boolean }) => [v.version, v.current])).toEqual([[1, false], [2, false], [3, true]]);
    const old = await call('GET', '/api/v1/templates/web-prod/versions/1', 'auditor');
    expect(old.json()).toMatchObject({ version: 1, currentVersion: 3 });
    expect(old.json().document).toEqual(v1.document);
    expect((await call('GET', '/api/v1/templates/web-prod/versions/9', 'auditor')).statusCode).toBe(404);
    expect((await call('GET', '/api/v1/templates/web-prod/versions/zero', 'auditor')).statusCode).toBe(400);

    // What the workflow engine reads: any version by id, and the rules that auto-adopt.
    const em = orm.em.fork();
    expect((await getTemplateVersion(em, v1.id, 1)).document).toEqual(v1.document);
    expect(await getTemplateVersion(em, v1.id)).toMatchObject({ name: 'web-prod', version: 3 });
    expect((await listTemplatesWithMatch(em)).find((r) => r.name === 'web-prod')).toEqual({
      templateId: v1.id, name: 'web-prod', version: 3, match: { domainPatterns: ['*.shop.example'], labels: { env: 'prod' } },
    });

    const audit = await auditRows(v1.id);
    expect(audit.map((a) => a.action)).toEqual(['template.create', 'template.update', 'template.update']);
    expect(audit[0]).toMatchObject({ actor: 'token:operator-token', before: null, after: { name: 'web-prod', version: 1, document: v1.document } });
    expect(audit[1].before).toMatchObject({ version: 1, document: { renewal: { daysBeforeExpiry: 20 } } });
    expect(audit[1].after).toMatchObject({ version: 2, document: { renewal: { daysBeforeExpiry: 15 } } });
    expect((await call('GET', '/api/v1/audit/verify', 'admin')).json().ok).toBe(true);
  });

  it('archives: the template adopts and changes no more, its versions stay readable, its name stays taken', async () => {
    const created = (await create('legacy', { match: { domainPatterns: ['legacy.example'] } })).json();
    const archived = await call('DELETE', '/api/v1/templates/legacy', 'operator');
    expect(archived.statusCode).toBe(200);
    expect(archived.json().archivedAt).not.toBeNull();
    expect((await call('DELETE', '/api/v1/templates/legacy', 'operator')).statusCode).toBe(200);
    expect((await auditRows(created.id)).map((a) => a.action)).toEqual(['template.create', 'template.archive']);

    const active = (await call('GET', '/api/v1/templates', 'auditor')).json().items.map((t: { name: string }) => t.name);
    expect(active).not.toContain('legacy');
    const all = (await call('GET', '/api/v1/templates?includeArchived=true', 'auditor')).json().items.map((t: { name: string }) => t.name);
    expect(all).toContain('legacy');
    expect((await listTemplatesWithMatch(orm.em.fork())).map((r) => r.name)).not.toContain('legacy');
    expect((await call('GET', '/api/v1/templates/legacy/versions/1', 'auditor')).statusCode).toBe(200);
    expect((await update('legacy', {})).statusCode).toBe(409);
    expect((await create('legacy', {})).statusCode).toBe(409);
    // An archived template's rule no longer stands in anyone's way.
    expect((await create('legacy-2', { match: { domainPatterns: ['legacy.example'] } })).statusCode).toBe(201);
  });

  it('refuses a name that exists and answers 404 for one that does not', async () => {
    expect((await create('web-prod', {})).statusCode).toBe(409);
    expect((await call('GET', '/api/v1/templates/nope', 'auditor')).statusCode).toBe(404);
    expect((await update('nope', {})).statusCode).toBe(404);
    expect((await call('DELETE', '/api/v1/templates/nope')).statusCode).toBe(404);
    expect((await call('GET', '/api/v1/templates/nope/versions', 'auditor')).statusCode).toBe(404);
  });
});

describe('roles', () => {
  it('lets every role read and only admins and operators write', async () => {
    for (const role of ['admin', 'operator', 'approver', 'auditor'] as const) {
      expect((await call('GET', '/api/v1/templates', role)).statusCode).toBe(200);
    }
    expect((await create('by-admin', {}, 'admin')).statusCode).toBe(201);
    for (const role of ['approver', 'auditor'] as const) {
      const refused = await create(`by-${role}`, {}, role);
      expect(refused.statusCode).toBe(403);
      expect(refused.json().detail).toMatch(/may not manage templates/);
      expect((await call('PUT', '/api/v1/templates/by-admin', role, { document: {} })).statusCode).toBe(403);
      expect((await call('DELETE', '/api/v1/templates/by-admin', role)).statusCode).toBe(403);
    }
    expect((await app.inject({ method: 'GET', url: '/api/v1/templates' })).statusCode).toBe(401);
  });
});

describe('bad documents are refused with the field at fault, and leave nothing behind', () => {
  const gate = (level: object) => ({ approval: { gates: [{ before: 'issue', levels: [{ name: 'l1', ...level }] }] } });
  const cases: Array<[string, () => object, string, RegExp]> = [
    ['an unknown CA', () => ({ ca: { policy: [{ ca: 'no-such-ca' }] } }), 'ca.policy[0].ca', /unknown CA "no-such-ca".*known CAs: builtin, off-ca, rsa-only, short-ca/],
    ['a disabled CA', () => ({ ca: { policy: [{ ca: 'builtin' }, { ca: 'off-ca' }] } }), 'ca.policy[1].ca', /disabled/],
    ['a key type the CA does not issue', () => ({ key: { type: 'ecdsa-p384' }, ca: { policy: [{ ca: 'rsa-only' }] } }), 'ca.policy[0].ca', /does not issue ecdsa-p384/],
    ['a threshold as long as the CA\'s lifetime', () => ({ renewal: { daysBeforeExpiry: 30 }, ca: { policy: [{ ca: 'short-ca' }] } }),
      'renewal.daysBeforeExpiry', /30-day lifetime .* "short-ca"/],
    ['a threshold beyond the validity asked for', () => ({ renewal: { daysBeforeExpiry: 60 }, ca: { policy: [{ ca: 'rsa-only' }], validityDays: 45 } }),
      'renewal.daysBeforeExpiry', /45-day lifetime/],
    ['a validity longer than the CA issues', () => ({ ca: { policy: [{ ca: 'short-ca' }], validityDays: 60 } }), 'ca.validityDays', /at most 30 days/],
    ['a percentage of lifetime outside 1..99', () => ({ renewal: { percentOfLifetime: 150 } }), 'renewal.percentOfLifetime', /between 1 and 99/],
    ['zero approvers', () => gate({ approvers: {}, required: 1 }), 'approval.gates[0].levels[0].approvers', /needs approvers/],
    ['zero approvals required', () => gate({ approvers: { roles: ['approver'] }, required: 0 }), 'approval.gates[0].levels[0].required', /at least one/],
    ['more approvals than named tokens', () => gate({ approvers: { tokens: [ids.approver] }, required: 2 }), 'approval.gates[0].levels[0].required', /only 1/],
    ['an unknown approver token', () => gate({ approvers: { tokens: [crypto.randomUUID()] }, required: 1 }),
      'approval.gates[0].levels[0].approvers.tokens[0]', /unknown admin token/],
    ['a revoked approver token', () => gate({ approvers: { tokens: [ids.approver, ids.revoked] }, required: 1 }),
      'approval.gates[0].levels[0].approvers.tokens[1]', /revoked/],
    ['an auditor as approver', () => gate({ approvers: { tokens: [ids.auditor] }, required: 1 }),
      'approval.gates[0].levels[0].approvers.tokens[0]', /cannot approve/],
    ['an overlapping auto-adoption rule', () => ({ match: { domainPatterns: ['www.shop.example'] } }), 'match', /overlaps .* "web-prod".*www\.shop\.example/],
    ['an unknown event kind', () => ({ notifications: { rules: [{ events: ['certificate.stolen'], channels: ['ops'] }] } }),
      'notifications.rules[0].events[0]', /event kind/],
    ['a bad maintenance window', () => ({ deploy: { maintenanceWindows: [{ start: '9:00', end: '17:00', timeZone: 'UTC' }] } }),
      'deploy.maintenanceWindows[0].start', /HH:MM/],
    ['an unknown time zone', () => ({ deploy: { maintenanceWindows: [{ start: '09:00', end: '17:00', timeZone: 'Europe/Atlantis' }] } }),
      'deploy.maintenanceWindows[0].timeZone', /time zone/],
    ['an unknown agent', () => ({ deploy: { targets: [{ agentId: crypto.randomUUID(), kind: 'file' }] } }), 'deploy.targets[0].agentId', /unknown agent/],
    ['a revoked agent', () => ({ deploy: { targets: [{ agentId: ids.agent, kind: 'file' }, { agentId: ids.revokedAgent, kind: 'file' }] } }),
      'deploy.targets[1].agentId', /revoked/],
    ['a misspelt field', () => ({ rollback: { polcy: 'manual' } }), 'rollback.polcy', /unknown field/],
  ];

  it.each(cases)('%s', async (_what, document, field, message) => {
    const before = await counts();
    const res = await create('refused', document());
    expect(res.statusCode).toBe(422);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.json()).toMatchObject({ type: 'urn:certflow:problem:invalid-template', status: 422, field });
    expect(res.json().detail).toMatch(message);
    expect(res.json().detail.startsWith(`${field}: `)).toBe(true);
    // The same document is refused as an update too.
    const onUpdate = await update('by-admin', document());
    expect(onUpdate.statusCode).toBe(422);
    expect(onUpdate.json().field).toBe(field);
    expect(await counts()).toEqual(before);
  });

  it('refuses a bad name with its field, and a body without a document with a 400', async () => {
    const res = await create('Web Prod', {});
    expect(res.statusCode).toBe(422);
    expect(res.json().field).toBe('name');
    expect((await call('POST', '/api/v1/templates', 'operator', { name: 'x' })).statusCode).toBe(400);
    expect((await call('POST', '/api/v1/templates', 'operator', { name: 'x', document: [] })).statusCode).toBe(400);
  });

  // Rules in different dimensions always overlap (one certificate can have both the labels and the names),
  // so every rule in this file keeps to domains, or domains plus the same label key.
  it('accepts rules that cannot select the same certificate, and a template\'s own rule on update', async () => {
    // web-prod adopts '*.shop.example' with env=prod.
    expect((await create('shop-apex', { match: { domainPatterns: ['shop.example'] } })).statusCode).toBe(201);
    expect((await create('shop-deep', { match: { domainPatterns: ['*.eu.shop.example'] } })).statusCode).toBe(201);
    expect((await create('shop-staging', { match: { domainPatterns: ['*.shop.example'], labels: { env: 'staging' } } })).statusCode).toBe(201);
    expect((await create('no-match', { match: null })).statusCode).toBe(201);
    const current = (await call('GET', '/api/v1/templates/web-prod', 'auditor')).json();
    expect((await update('web-prod', current.document)).statusCode).toBe(200);
    // A second template without the label would catch web-prod's certificates too.
    const overlapping = await create('shop-any', { match: { domainPatterns: ['*.shop.example'] } });
    expect(overlapping.statusCode).toBe(422);
    expect(overlapping.json().detail).toMatch(/"(web-prod|shop-staging)"/);
  });
});

describe('concurrent writers', () => {
  it('lets exactly one of two updates from the same version through', async () => {
    const base = (await create('race', {})).json();
    const results = await Promise.all([1, 2].map((n) =>
      update('race', { renewal: { daysBeforeExpiry: 10 + n } }, { 'if-match': `"${base.version}"` })));
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 409]);
    expect((await call('GET', '/api/v1/templates/race/versions', 'auditor')).json().items).toHaveLength(2);
  });

  it('lets only one of two overlapping templates in when both are created at once', async () => {
    const results = await Promise.all(['twin-a', 'twin-b'].map((name) => create(name, { match: { domainPatterns: ['twin.example'] } })));
    expect(results.map((r) => r.statusCode).sort()).toEqual([201, 422]);
  });
});

describe('certflowctl templates', () => {
  it('lists, shows, creates, updates, archives and lists versions; a refused document names its field', async () => {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as { port: number };
    const dir = mkdtempSync(join(tmpdir(), 'certflow-templates-'));
    try {
      const ctl = async (...args: string[]) => {
        const p = runTsx('controller/src/cli/main.ts', [...args, '--url', `http://127.0.0.1:${port}`, '--token', tokens.operator], {});
        return { code: await p.exited, out: p.output() };
      };
      const file = (name: string, doc: unknown) => {
        const path = join(dir, name);
        writeFileSync(path, JSON.stringify(doc));
        return path;
      };
      const created = await ctl('templates', 'create', 'cli-made', '--file', file('v1.json', { description: 'made by the CLI', match: { domainPatterns: ['cli.example'] } }));
      expect(created).toMatchObject({ code: 0, out: 'template "cli-made" created (version 1)\n' });
      const updated = await ctl('templates', 'update', 'cli-made', '--expected-version', '1', '--file', file('v2.json', { rollback: { policy: 'manual' } }));
      expect(updated).toMatchObject({ code: 0, out: 'template "cli-made" updated: version 2\n' });
      const stale = await ctl('templates', 'update', 'cli-made', '--expected-version', '1', '--file', file('v2.json', {}));
      expect(stale.code).toBe(1);
      expect(stale.out).toMatch(/Conflict: .*version 2, not 1/);

      const list = await ctl('templates', 'list');
      expect(list.out).toMatch(/^NAME\s+VERSION\s+AUTO-ADOPTS/);
      expect(list.out).toMatch(/\ncli-made\s+2\s+no\s/);
      const shown = await ctl('templates', 'show', 'cli-made', '--version', '1');
      expect(shown.out).toMatch(/version:\s+1 \(current is 2\)/);
      expect(shown.out).toContain('"cli.example"');
      const json = JSON.parse((await ctl('templates', 'show', 'cli-made', '--json')).out);
      expect(json.document.rollback).toEqual({ policy: 'manual' });
      const versions = await ctl('templates', 'versions', 'cli-made');
      expect(versions.out).toMatch(/\n\s+1\s.*token:operator-token\s*\n\s+2\s.*token:operator-token\s+yes\n/);

      const refused = await ctl('templates', 'create', 'cli-bad', '--file', file('bad.json', { ca: { policy: [{ ca: 'nowhere' }] } }));
      expect(refused.code).toBe(1);
      expect(refused.out).toContain('Invalid template: ca.policy[0].ca: unknown CA "nowhere"');
      const notJson = join(dir, 'broken.json');
      writeFileSync(notJson, '{ nope');
      expect((await ctl('templates', 'create', 'cli-bad', '--file', notJson)).out).toMatch(/broken\.json is not JSON/);
      expect((await ctl('templates', 'create', 'cli-bad')).code).toBe(2);

      expect((await ctl('templates', 'archive', 'cli-made')).out).toBe('template "cli-made" archived; its versions stay readable\n');
      expect((await ctl('templates', 'list', '--all')).out).toMatch(/\ncli-made\s+2\s+no\s.*archived/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
