// The CAs through the admin API and certflowctl: the list with policy and health, revocation (admins
// only, audited), and what relying parties fetch without credentials: the CRL (verified with openssl
// against the intermediate served next to it) and the CA certificates.
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiServer } from '../../controller/src/api/server.js';
import { createAdminToken } from '../../controller/src/auth/admin-tokens.js';
import type { ControllerConfig } from '../../controller/src/config.js';
import { createSecretBox, type SecretBox } from '../../controller/src/crypto/master-key.js';
import { createOrm, migrate, type Orm } from '../../controller/src/db/orm.js';
import { BUILTIN_CA_NAME, ensureBuiltinCa } from '../../controller/src/issuers/internal/internal-ca-store.js';
import { loadIssuer } from '../../controller/src/issuers/issuer-registry.js';
import type { IssuedCertificate } from '../../controller/src/issuers/issuer.js';
import { createLogger } from '../../controller/src/log.js';
import { makeTestCsr } from '../support/csr.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { runTsx } from '../support/processes.js';

const execFileAsync = promisify(execFile);
const PUBLIC_URL = 'http://certflow.example.test:7080';

let db: TestDatabase;
let orm: Orm;
let box: SecretBox;
let app: FastifyInstance;
let dir: string;
const tokens = { admin: '', operator: '', auditor: '' };

const call = (method: 'GET' | 'POST', url: string, token?: string, payload?: object) =>
  app.inject({ method, url, headers: token ? { authorization: `Bearer ${token}` } : {}, ...(payload ? { payload } : {}) });

async function issue(name: string): Promise<IssuedCertificate> {
  // As the workflow's issue stage does it: through the registry, with the controller's public URL.
  const issuer = await loadIssuer(orm.em.fork(), box, BUILTIN_CA_NAME, { publicUrl: PUBLIC_URL });
  const csr = await makeTestCsr({ dnsNames: [name] });
  return issuer.issue({ csrPem: csr.csrPem, dnsNames: [name], idempotencyKey: randomUUID() });
}

beforeAll(async () => {
  db = await createTestDatabase();
  orm = await createOrm(db.url);
  await orm.connect();
  await migrate(orm);
  box = createSecretBox(randomBytes(32));
  await ensureBuiltinCa(orm.em.fork(), box);
  for (const role of ['admin', 'operator', 'auditor'] as const) {
    tokens[role] = (await createAdminToken(orm.em.fork(), { name: role, role })).token;
  }
  app = await createApiServer({
    orm, log: createLogger('silent'), box,
    config: { checkInIntervalSeconds: 30, offlineAfterIntervals: 3, enrollmentTokenDefaultHours: 24, publicUrl: PUBLIC_URL } as ControllerConfig,
    readiness: () => ({ database: true, nats: true, gateway: true }),
    agentCa: () => null,
  });
  dir = await mkdtemp(join(tmpdir(), 'certflow-cas-api-'));
});

afterAll(async () => {
  await app?.close();
  await orm?.close();
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('GET /api/v1/cas', () => {
  it('lists the built-in CA with its policy, health and publication URLs to every reader', async () => {
    for (const token of Object.values(tokens)) {
      const res = await call('GET', '/api/v1/cas', token);
      expect(res.statusCode).toBe(200);
      expect(res.json().items).toEqual([expect.objectContaining({
        name: 'builtin', kind: 'internal', disabled: false,
        policy: { allowedDomains: [], maxValidityDays: 90, keyTypes: ['ecdsa-p256', 'ecdsa-p384', 'rsa-2048', 'rsa-3072', 'rsa-4096'] },
        health: { healthy: true, detail: expect.stringMatching(/intermediate valid until/) },
        crlUrl: `${PUBLIC_URL}/crl/builtin.crl`, chainUrl: `${PUBLIC_URL}/ca/builtin.pem`,
      })]);
    }
    expect((await call('GET', '/api/v1/cas')).statusCode).toBe(401);
  });
});

describe('revocation and the CRL', () => {
  it('revokes for admins only, audits it, and the unauthenticated CRL lists the serial and verifies with the intermediate', async () => {
    const revoked = await issue('api-revoked.example.test');
    const kept = await issue('api-kept.example.test');
    const body = { serial: revoked.serialHex, reason: 'keyCompromise' };
    expect((await call('POST', '/api/v1/cas/builtin/revoke', tokens.operator, body)).statusCode).toBe(403);
    expect((await call('POST', '/api/v1/cas/builtin/revoke', tokens.auditor, body)).statusCode).toBe(403);
    const res = await call('POST', '/api/v1/cas/builtin/revoke', tokens.admin, body);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ ca: 'builtin', serial: revoked.serialHex, reason: 'keyCompromise', alreadyRevoked: false });
    const again = await call('POST', '/api/v1/cas/builtin/revoke', tokens.admin, { serial: revoked.serialHex });
    expect(again.json()).toMatchObject({ alreadyRevoked: true, reason: 'keyCompromise' });

    const audit = (await call('GET', '/api/v1/audit?action=certificate.revoked', tokens.admin)).json();
    expect(audit.items).toEqual([expect.objectContaining({
      actor: 'token:admin', targetType: 'certificate-serial', targetId: `builtin:${revoked.serialHex}`,
      after: expect.objectContaining({ reason: 'keyCompromise' }),
    })]);

    const crl = await call('GET', '/crl/builtin.crl');
    expect(crl.statusCode).toBe(200);
    expect(crl.headers['content-type']).toBe('application/pkix-crl');
    const chain = await call('GET', '/ca/builtin.pem');
    expect(chain.statusCode).toBe(200);
    expect(chain.headers['content-type']).toBe('application/pem-certificate-chain');
    const [intermediatePem, rootPem] = chain.body.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)!;
    expect(revoked.chainPem.trim()).toBe(intermediatePem);
    const files = {
      crl: join(dir, 'builtin.crl'), intermediate: join(dir, 'intermediate.pem'), root: join(dir, 'root.pem'),
      revoked: join(dir, 'revoked.pem'), kept: join(dir, 'kept.pem'), crlPem: join(dir, 'builtin.crl.pem'),
    };
    await writeFile(files.crl, crl.rawPayload);
    await writeFile(files.intermediate, intermediatePem + '\n');
    await writeFile(files.root, rootPem + '\n');
    await writeFile(files.revoked, revoked.certificatePem);
    await writeFile(files.kept, kept.certificatePem);
    const text = await execFileAsync('openssl', ['crl', '-inform', 'DER', '-in', files.crl, '-CAfile', files.intermediate, '-noout', '-text']);
    expect(text.stdout + text.stderr).toMatch(/verify OK/);
    expect(text.stdout).toContain(revoked.serialHex.toUpperCase());
    expect(text.stdout).not.toContain(kept.serialHex.toUpperCase());
    await writeFile(files.crlPem, (await execFileAsync('openssl', ['crl', '-inform', 'DER', '-in', files.crl])).stdout);
    const verify = (leaf: string) => execFileAsync('openssl', ['verify', '-crl_check', '-CAfile', files.root, '-untrusted', files.intermediate, '-CRLfile', files.crlPem, leaf])
      .then((r) => r.stdout, (e: { stdout: string; stderr: string }) => e.stdout + e.stderr);
    expect(await verify(files.revoked)).toMatch(/certificate revoked/);
    expect(await verify(files.kept)).toMatch(/: OK/);
  });

  it('answers unknown CAs, unknown serials and bad input with problems', async () => {
    const notFound = await call('POST', '/api/v1/cas/nope/revoke', tokens.admin, { serial: '01ab' });
    expect(notFound.statusCode).toBe(404);
    expect(notFound.json().detail).toMatch(/no certificate authority named "nope"/);
    expect((await call('POST', '/api/v1/cas/builtin/revoke', tokens.admin, { serial: '01ab' })).statusCode).toBe(404);
    const bad = await call('POST', '/api/v1/cas/builtin/revoke', tokens.admin, { serial: 'xyz' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().detail).toMatch(/not a hexadecimal serial/);
    expect((await call('POST', '/api/v1/cas/builtin/revoke', tokens.admin, { serial: '01', reason: 'because' })).statusCode).toBe(400);
    expect((await call('GET', '/crl/nope.crl')).statusCode).toBe(404);
    expect((await call('GET', '/crl/builtin.pem')).statusCode).toBe(404);
    expect((await call('GET', '/ca/builtin.crl')).statusCode).toBe(404);
  });

  it('documents the routes in OpenAPI, the publication ones without security', async () => {
    const doc = (await call('GET', '/api/v1/openapi.json')).json();
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/cas', '/api/v1/cas/{name}/revoke', '/crl/{file}', '/ca/{file}']));
    expect(doc.paths['/crl/{file}'].get.security).toEqual([]);
    expect(doc.paths['/api/v1/cas/{name}/revoke'].post.requestBody).toBeDefined();
  });
});

describe('certflowctl cas', () => {
  it('lists the CAs and revokes a certificate', async () => {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as { port: number };
    const ctl = async (...args: string[]) => {
      const p = runTsx('controller/src/cli/main.ts', [...args, '--url', `http://127.0.0.1:${port}`, '--token', tokens.admin], {});
      return { code: await p.exited, out: p.output() };
    };
    const list = await ctl('cas', 'list');
    expect(list.code).toBe(0);
    expect(list.out).toMatch(/builtin\s+internal\s+healthy\s+any name; ≤90d;/);
    const issued = await issue('cli-revoked.example.test');
    const pasted = issued.serialHex.toUpperCase().match(/../g)!.join(':');
    const revoked = await ctl('cas', 'revoke', 'builtin', pasted, '--reason', 'superseded');
    expect(revoked.code).toBe(0);
    expect(revoked.out).toContain(`certificate ${issued.serialHex} of CA "builtin" revoked (superseded)`);
    const bad = await ctl('cas', 'revoke', 'builtin', pasted, '--reason', 'nonsense');
    expect(bad.code).toBe(2);
    const json = await ctl('cas', 'revoke', 'builtin', issued.serialHex, '--json');
    expect(JSON.parse(json.out)).toMatchObject({ alreadyRevoked: true, reason: 'superseded' });
  });
});
