// Adding and changing CAs through the admin API and certflowctl, against a real Pebble in its EAB mode:
// a CA added with ?check=true registers its account with the EAB key it was given (so the sealed secret
// is the one used), the list shows it healthy, and no secret value appears in any response or audit row.
// Bad bodies name their field, non-admins are refused, updates keep the secrets they leave out, and the
// built-in CA can be disabled but never turned into something else.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiServer } from '../../controller/src/api/server.js';
import { createAdminToken } from '../../controller/src/auth/admin-tokens.js';
import type { ControllerConfig } from '../../controller/src/config.js';
import { createSecretBox, type SecretBox } from '../../controller/src/crypto/master-key.js';
import { createOrm, migrate, type Orm } from '../../controller/src/db/orm.js';
import { acmeAccountSecretName } from '../../controller/src/issuers/acme/acme-config.js';
import { loadAcmeSecrets } from '../../controller/src/issuers/acme/acme-store.js';
import { ensureBuiltinCa } from '../../controller/src/issuers/internal/internal-ca-store.js';
import { createLogger } from '../../controller/src/log.js';
import { closedPort } from '../support/free-port.js';
import { startPebble, type RunningPebble } from '../support/pebble.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { runTsx } from '../support/processes.js';

const HOOK = fileURLToPath(new URL('../support/challtestsrv-dns-hook.mjs', import.meta.url));
// Pebble's EAB keys are base64url HMAC keys, as ZeroSSL hands them out.
const EAB_KEYS = { 'kid-1': randomBytes(48).toString('base64url'), 'kid-2': randomBytes(48).toString('base64url') };
const TSIG_SECRET = randomBytes(32).toString('base64');
const SECRETS = [EAB_KEYS['kid-1'], EAB_KEYS['kid-2'], TSIG_SECRET];

let db: TestDatabase;
let orm: Orm;
let box: SecretBox;
let pebble: RunningPebble;
let app: FastifyInstance;
let dir: string;
const tokens = { admin: '', operator: '' };

type Method = 'GET' | 'POST' | 'PUT';
const call = (method: Method, url: string, token?: string, payload?: object) =>
  app.inject({ method, url, headers: token ? { authorization: `Bearer ${token}` } : {}, ...(payload ? { payload } : {}) });

function expectNoSecret(text: string): void {
  for (const secret of SECRETS) expect(text).not.toContain(secret);
}

function acmeBody(name: string, config: Record<string, unknown> = {}) {
  return {
    name, kind: 'acme',
    config: {
      directoryUrl: pebble.directoryUrl, trustPem: pebble.tlsTrustPem, contact: ['mailto:pki@example.test'],
      eab: { keyId: 'kid-1', hmacKey: EAB_KEYS['kid-1'] },
      challenge: {
        type: 'dns-01',
        provider: { kind: 'rfc2136', server: '127.0.0.1:53', zone: 'acme.test', tsigKeyName: 'certflow', tsigSecret: TSIG_SECRET },
      },
      ...config,
    },
    policy: { allowedDomains: ['acme.test'], maxValidityDays: 90, keyTypes: ['ecdsa-p256'] },
  };
}

async function listed(name: string) {
  const res = await call('GET', '/api/v1/cas', tokens.admin);
  expect(res.statusCode).toBe(200);
  expectNoSecret(res.body);
  return (res.json().items as { name: string; disabled: boolean; health: { healthy: boolean; detail: string }; config: Record<string, unknown> }[])
    .find((ca) => ca.name === name);
}

async function auditText(): Promise<string> {
  const rows = await orm.em.fork().getConnection().execute('select * from audit_events order by seq');
  return JSON.stringify(rows);
}

beforeAll(async () => {
  [db, pebble] = await Promise.all([createTestDatabase(), startPebble({ eabKeys: EAB_KEYS })]);
  orm = await createOrm(db.url);
  await orm.connect();
  await migrate(orm);
  box = createSecretBox(randomBytes(32));
  await ensureBuiltinCa(orm.em.fork(), box);
  for (const role of ['admin', 'operator'] as const) tokens[role] = (await createAdminToken(orm.em.fork(), { name: role, role })).token;
  app = await createApiServer({
    orm, log: createLogger('silent'), box,
    config: { checkInIntervalSeconds: 30, offlineAfterIntervals: 3, enrollmentTokenDefaultHours: 24, publicUrl: 'http://certflow.test' } as ControllerConfig,
    readiness: () => ({ database: true, nats: true, gateway: true }),
    agentCa: () => null,
  });
  dir = await mkdtemp(join(tmpdir(), 'certflow-cas-admin-'));
}, 60_000);

afterAll(async () => {
  await app?.close();
  await orm?.close();
  await Promise.all([db?.drop(), pebble?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('POST /api/v1/cas', () => {
  it('adds an ACME CA whose sealed EAB key registers the account; listed healthy; no secret in responses or audit rows', async () => {
    const res = await call('POST', '/api/v1/cas?check=true', tokens.admin, acmeBody('pebble-eab'));
    expect(res.statusCode).toBe(201);
    expectNoSecret(res.body);
    expect(res.json()).toMatchObject({
      name: 'pebble-eab', kind: 'acme', disabled: false, result: 'created', secretsSet: ['eabHmacKey', 'tsigSecret'],
      config: { directoryUrl: pebble.directoryUrl, eabKeyId: 'kid-1', challenge: { provider: { kind: 'rfc2136', tsigKeyName: 'certflow' } } },
      health: { healthy: true, detail: expect.stringMatching(/directory and account valid/) },
    });
    expect(res.json().config.challenge.provider).not.toHaveProperty('tsigSecret');

    expect(await listed('pebble-eab')).toMatchObject({ disabled: false, health: { healthy: true }, config: { eabKeyId: 'kid-1' } });
    expect(await loadAcmeSecrets(orm.em, box, 'pebble-eab')).toEqual({ eabHmacKey: EAB_KEYS['kid-1'], tsigSecret: TSIG_SECRET });

    const audit = await call('GET', '/api/v1/audit?action=ca.created', tokens.admin);
    expect(audit.json().items).toEqual([expect.objectContaining({
      actor: 'token:admin', targetType: 'certificate-authority', targetId: 'pebble-eab',
      after: expect.objectContaining({ kind: 'acme', secretsSet: ['eabHmacKey', 'tsigSecret'], config: expect.objectContaining({ eabKeyId: 'kid-1' }) }),
    })]);
    expectNoSecret(audit.body);
    expectNoSecret(await auditText());
  });

  it('names the field of a bad body in a problem document', async () => {
    const cases: [object, RegExp][] = [
      [acmeBody('bad-url', { directoryUrl: 'ftp://example.test/dir' }), /^body parameter "config\.directoryUrl": /],
      [acmeBody('bad-contact', { contact: ['pki@example.test'] }), /^body parameter "config\.contact\.0": expected mailto:/],
      [acmeBody('bad-tsig', { challenge: { type: 'dns-01', provider: { kind: 'rfc2136', server: '127.0.0.1:53', zone: 'acme.test', tsigKeyName: 'k' } } }),
        /^body parameter "config\.challenge\.provider\.tsigSecret": the rfc2136 DNS provider needs its TSIG secret/],
      [acmeBody('bad-eab', { eab: { keyId: 'kid-1' } }), /^body parameter "config\.eab\.hmacKey": /],
      [{ ...acmeBody('bad-policy'), policy: { maxValidityDays: 90, keyTypes: ['dsa-1024'] } }, /^body parameter "policy\.keyTypes\.0": /],
      [{ ...acmeBody('bad-extra'), secrets: {} }, /^body: .*secrets/],
      [acmeBody('Not A Slug'), /^body parameter "name": expected a lower-case slug/],
      [{ ...acmeBody('internal-two'), kind: 'internal' }, /^body parameter "kind": only ACME CAs can be added .*built-in CA/],
      [{ ...acmeBody('builtin-two'), kind: 'builtin' }, /^body parameter "kind": only ACME CAs/],
    ];
    for (const [body, detail] of cases) {
      const res = await call('POST', '/api/v1/cas', tokens.admin, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json().detail).toMatch(detail);
      expectNoSecret(res.body);
    }
    for (const name of ['pebble-eab', 'builtin']) {
      const taken = await call('POST', '/api/v1/cas', tokens.admin, acmeBody(name));
      expect(taken.statusCode).toBe(409);
      expect(taken.json().detail).toMatch(new RegExp(`a CA named "${name}" already exists`));
    }
    const names = (await call('GET', '/api/v1/cas', tokens.admin)).json().items.map((ca: { name: string }) => ca.name);
    expect(names).toEqual(['builtin', 'pebble-eab']);
  });

  it('refuses non-admins', async () => {
    expect((await call('POST', '/api/v1/cas', tokens.operator, acmeBody('by-operator'))).statusCode).toBe(403);
    expect((await call('PUT', '/api/v1/cas/pebble-eab', tokens.operator, { disabled: true })).statusCode).toBe(403);
    expect((await call('POST', '/api/v1/cas', undefined, acmeBody('anonymous'))).statusCode).toBe(401);
    expect((await call('PUT', '/api/v1/cas/pebble-eab', undefined, { disabled: true })).statusCode).toBe(401);
    expect(await listed('by-operator')).toBeUndefined();
  });

  it('with ?check=true, answers 422 with the CA\'s error when the directory cannot be reached, and adds nothing', async () => {
    const port = await closedPort();
    const res = await call('POST', '/api/v1/cas?check=true', tokens.admin,
      acmeBody('unreachable', { directoryUrl: `https://127.0.0.1:${port}/dir` }));
    expect(res.statusCode).toBe(422);
    expect(res.json().detail).toMatch(/CA "unreachable" \(ACME directory\): cannot reach the CA/);
    expect(await listed('unreachable')).toBeUndefined();
    // Without the check it is added, and listed unhealthy with the same reason.
    expect((await call('POST', '/api/v1/cas', tokens.admin, acmeBody('unreachable', { directoryUrl: `https://127.0.0.1:${port}/dir` }))).statusCode).toBe(201);
    expect(await listed('unreachable')).toMatchObject({ health: { healthy: false, detail: expect.stringMatching(/cannot reach the CA/) } });
  });
});

describe('PUT /api/v1/cas/:name', () => {
  it('changes settings and keeps the secrets it is not given', async () => {
    const res = await call('PUT', '/api/v1/cas/pebble-eab', tokens.admin, { config: { contact: ['mailto:ops@example.test'], maxConcurrentOrders: 2 } });
    expect(res.statusCode).toBe(200);
    expectNoSecret(res.body);
    expect(res.json()).toMatchObject({
      result: 'updated', secretsSet: ['eabHmacKey', 'tsigSecret'],
      config: { contact: ['mailto:ops@example.test'], maxConcurrentOrders: 2, eabKeyId: 'kid-1', challenge: { provider: { kind: 'rfc2136' } } },
    });
    expect(await loadAcmeSecrets(orm.em, box, 'pebble-eab')).toEqual({ eabHmacKey: EAB_KEYS['kid-1'], tsigSecret: TSIG_SECRET });
    expect(await listed('pebble-eab')).toMatchObject({ health: { healthy: true } });
    // The same again changes nothing and is not audited.
    const again = await call('PUT', '/api/v1/cas/pebble-eab', tokens.admin, { config: { contact: ['mailto:ops@example.test'] } });
    expect(again.json().result).toBe('unchanged');
    const updates = (await call('GET', '/api/v1/audit?action=ca.updated', tokens.admin)).json().items;
    expect(updates).toHaveLength(1);
    expect(updates[0]).toMatchObject({
      actor: 'token:admin', targetId: 'pebble-eab',
      before: { config: { contact: ['mailto:pki@example.test'] } }, after: { config: { contact: ['mailto:ops@example.test'] } },
    });
    expect(updates[0].after).not.toHaveProperty('secretsChanged');
  });

  it('a new EAB key id needs its HMAC key; with it the account is registered again under the new binding', async () => {
    const missing = await call('PUT', '/api/v1/cas/pebble-eab', tokens.admin, { config: { eab: { keyId: 'kid-2' } } });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().detail).toMatch(/^body parameter "config\.eab\.hmacKey": a new key id needs its HMAC key/);
    const res = await call('PUT', '/api/v1/cas/pebble-eab', tokens.admin, {
      config: { eab: { keyId: 'kid-2', hmacKey: EAB_KEYS['kid-2'] }, challenge: { type: 'dns-01', provider: { kind: 'exec', command: [process.execPath, HOOK, pebble.challtestsrvUrl] } } },
    });
    expect(res.statusCode).toBe(200);
    // The exec provider has no TSIG secret: the old one is dropped.
    expect(res.json()).toMatchObject({ secretsSet: ['eabHmacKey'], config: { eabKeyId: 'kid-2', challenge: { provider: { kind: 'exec' } } } });
    expect(await loadAcmeSecrets(orm.em, box, 'pebble-eab')).toEqual({ eabHmacKey: EAB_KEYS['kid-2'] });
    const [account] = await orm.em.fork().getConnection().execute('select 1 from secrets where name = ?', [acmeAccountSecretName('pebble-eab')]);
    expect(account).toBeUndefined();
    expect(await listed('pebble-eab')).toMatchObject({ health: { healthy: true } });
    const [update] = (await call('GET', '/api/v1/audit?action=ca.updated', tokens.admin)).json().items.slice(-1);
    expect(update.after).toMatchObject({ secretsChanged: ['eabHmacKey', 'tsigSecret'], config: { eabKeyId: 'kid-2' } });
    expectNoSecret(await auditText());
  });

  it('disables and enables any CA, never changes a kind or the built-in CA\'s config, and names bad fields', async () => {
    const off = await call('PUT', '/api/v1/cas/builtin', tokens.admin, { disabled: true });
    expect(off.statusCode).toBe(200);
    expect(off.json()).toMatchObject({ name: 'builtin', kind: 'internal', disabled: true, secretsSet: [] });
    expect(await listed('builtin')).toMatchObject({ disabled: true });
    expect((await call('PUT', '/api/v1/cas/builtin', tokens.admin, { disabled: false })).json().disabled).toBe(false);

    const kind = await call('PUT', '/api/v1/cas/builtin', tokens.admin, { kind: 'acme', disabled: false });
    expect(kind.statusCode).toBe(409);
    expect(kind.json().detail).toMatch(/is of kind "internal": a CA's kind cannot change/);
    expect((await call('PUT', '/api/v1/cas/pebble-eab', tokens.admin, { kind: 'internal', disabled: false })).statusCode).toBe(409);
    const config = await call('PUT', '/api/v1/cas/builtin', tokens.admin, { config: { contact: [] } });
    expect(config.statusCode).toBe(409);
    expect(config.json().detail).toMatch(/built-in CA: its config is managed by the controller/);
    expect((await call('PUT', '/api/v1/cas/nope', tokens.admin, { disabled: true })).statusCode).toBe(404);
    const empty = await call('PUT', '/api/v1/cas/pebble-eab', tokens.admin, {});
    expect(empty.statusCode).toBe(400);
    expect(empty.json().detail).toMatch(/nothing to change/);
    const bad = await call('PUT', '/api/v1/cas/pebble-eab', tokens.admin, { config: { orderTimeoutSeconds: 1 } });
    expect(bad.json().detail).toMatch(/^body parameter "config\.orderTimeoutSeconds": /);
    const policy = await call('PUT', '/api/v1/cas/builtin', tokens.admin, { policy: { allowedDomains: ['example.test'], maxValidityDays: 30, keyTypes: ['ecdsa-p256'] } });
    expect(policy.statusCode).toBe(200);
    expect(policy.json().policy).toEqual({ allowedDomains: ['example.test'], maxValidityDays: 30, keyTypes: ['ecdsa-p256'] });
  });
});

describe('certflowctl cas add-acme | update | disable | enable', () => {
  it('adds a CA with secrets from files, changes it, disables and enables it', async () => {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as { port: number };
    const ctl = async (...args: string[]) => {
      const p = runTsx('controller/src/cli/main.ts', [...args, '--url', `http://127.0.0.1:${port}`, '--token', tokens.admin], {});
      return { code: await p.exited, out: p.output() };
    };
    const hmacFile = join(dir, 'eab-hmac');
    const trustFile = join(dir, 'pebble.pem');
    await writeFile(hmacFile, EAB_KEYS['kid-1'] + '\n', { mode: 0o600 });
    await writeFile(trustFile, pebble.tlsTrustPem);

    const added = await ctl('cas', 'add-acme', 'pebble-cli', '--directory', pebble.directoryUrl, '--contact', 'mailto:pki@example.test',
      '--eab-kid', 'kid-1', '--eab-hmac-file', hmacFile, '--trust-file', trustFile,
      '--dns-exec', `${process.execPath} ${HOOK} ${pebble.challtestsrvUrl}`, '--allowed-domain', 'acme.test', '--max-validity-days', '30', '--check');
    expect(added.out).toContain('CA "pebble-cli" (acme) added, enabled; secrets stored: eabHmacKey');
    expect(added.out).toMatch(/health: healthy: directory and account valid/);
    expect(added.code).toBe(0);
    expectNoSecret(added.out);
    expect(await listed('pebble-cli')).toMatchObject({ health: { healthy: true }, config: { challenge: { type: 'dns-01', provider: { kind: 'exec', command: [process.execPath, HOOK, pebble.challtestsrvUrl] } } } });

    const updated = await ctl('cas', 'update', 'pebble-cli', '--contact', 'mailto:ops@example.test', '--key-type', 'ecdsa-p384', '--json');
    expect(updated.code).toBe(0);
    expect(JSON.parse(updated.out)).toMatchObject({
      result: 'updated', secretsSet: ['eabHmacKey'], config: { contact: ['mailto:ops@example.test'], eabKeyId: 'kid-1' },
      policy: { allowedDomains: ['acme.test'], maxValidityDays: 30, keyTypes: ['ecdsa-p384'] },
    });
    expect(await loadAcmeSecrets(orm.em, box, 'pebble-cli')).toEqual({ eabHmacKey: EAB_KEYS['kid-1'] });

    const disabled = await ctl('cas', 'disable', 'pebble-cli');
    expect(disabled.out).toContain('CA "pebble-cli" (acme) updated, disabled');
    expect((await ctl('cas', 'list')).out).toMatch(/pebble-cli\s+acme\s+disabled/);
    expect((await ctl('cas', 'enable', 'pebble-cli')).out).toContain('updated, enabled');
    expect(await listed('pebble-cli')).toMatchObject({ disabled: false, health: { healthy: true } });

    const noDirectory = await ctl('cas', 'add-acme', 'x');
    expect(noDirectory.code).toBe(2);
    expect(noDirectory.out).toMatch(/--directory URL is required/);
    const badBody = await ctl('cas', 'add-acme', 'bad-cli', '--directory', 'ftp://nope');
    expect(badBody.code).toBe(1);
    expect(badBody.out).toMatch(/body parameter "config\.directoryUrl"/);
    const nothing = await ctl('cas', 'update', 'pebble-cli');
    expect(nothing.code).toBe(2);
  }, 60_000);
});
