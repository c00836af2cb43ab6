// The built-in CA on a real Postgres: created once even when replicas start together, the same after a
// restart, sealed at rest, revocations in a CRL that openssl verifies, and at most one certificate per
// idempotency key whatever crashes in between.
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID, X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretBox, type SecretBox } from '../../controller/src/crypto/master-key.js';
import { createOrm, migrate, type Orm } from '../../controller/src/db/orm.js';
import { BUILTIN_CA_NAME, caSecretName, ensureBuiltinCa } from '../../controller/src/issuers/internal/internal-ca-store.js';
import type { StoredCaMaterial } from '../../controller/src/issuers/internal/ca-material.js';
import { InternalIssuer } from '../../controller/src/issuers/internal/internal-issuer.js';
import { UnknownSerialError } from '../../controller/src/issuers/issued-records.js';
import { IssuerPolicyError, IssuerUnavailableError } from '../../controller/src/issuers/issuer.js';
import { listCertificateAuthorities, loadIssuer, UnknownIssuerError } from '../../controller/src/issuers/issuer-registry.js';
import { makeTestCsr } from '../support/csr.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

const execFileAsync = promisify(execFile);
const PUBLIC_URL = 'http://ca.example.test:7080';

let db: TestDatabase;
let orm: Orm;
let box: SecretBox;
let masterKey: Buffer;
let dir: string;

async function connect(url: string): Promise<Orm> {
  const o = await createOrm(url);
  await o.connect();
  return o;
}

async function builtin(o: Orm = orm, b: SecretBox = box): Promise<InternalIssuer> {
  return (await loadIssuer(o.em.fork(), b, BUILTIN_CA_NAME, { publicUrl: PUBLIC_URL })) as InternalIssuer;
}

async function setPolicy(policy: Record<string, unknown>): Promise<void> {
  await orm.em.getConnection().execute('update certificate_authorities set policy = ?::jsonb where name = ?',
    [JSON.stringify({ allowedDomains: [], maxValidityDays: 90, keyTypes: ['ecdsa-p256', 'ecdsa-p384', 'rsa-2048', 'rsa-3072', 'rsa-4096'], ...policy }), BUILTIN_CA_NAME]);
}

async function issueFor(issuer: InternalIssuer, names: string[], key = randomUUID()) {
  const csr = await makeTestCsr({ dnsNames: names });
  return issuer.issue({ csrPem: csr.csrPem, dnsNames: names, idempotencyKey: key });
}

async function file(name: string, content: string | Buffer): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

beforeAll(async () => {
  db = await createTestDatabase();
  orm = await connect(db.url);
  await migrate(orm);
  masterKey = randomBytes(32);
  box = createSecretBox(masterKey);
  dir = await mkdtemp(join(tmpdir(), 'certflow-builtin-ca-'));
});

afterAll(async () => {
  await orm?.close();
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('creation', () => {
  it('creates one CA when several replicas start at once, and every one of them uses it', async () => {
    // Each "replica" has its own connection pool and its own SecretBox instance over the same master key.
    const replicas = await Promise.all([1, 2, 3, 4].map(() => connect(db.url)));
    try {
      const boxes = replicas.map(() => createSecretBox(masterKey));
      const results = await Promise.all(replicas.map((o, i) => ensureBuiltinCa(o.em.fork(), boxes[i])));
      expect(results.filter((r) => r.created)).toHaveLength(1);
      const [{ count }] = await orm.em.getConnection().execute<{ count: string }[]>('select count(*) from certificate_authorities');
      expect(Number(count)).toBe(1);
      const roots = await Promise.all(replicas.map(async (o, i) => (await builtin(o, boxes[i])).rootPem()));
      expect(new Set(roots).size).toBe(1);
    } finally {
      await Promise.all(replicas.map((o) => o.close()));
    }
  });

  it('is the same CA after a restart (new connections, new process state): same root, nothing created', async () => {
    const before = await (await builtin()).rootPem();
    const restarted = await connect(db.url);
    try {
      const freshBox = createSecretBox(Buffer.from(masterKey));
      expect(await ensureBuiltinCa(restarted.em.fork(), freshBox)).toEqual({ created: false });
      expect(await (await builtin(restarted, freshBox)).rootPem()).toBe(before);
    } finally {
      await restarted.close();
    }
  });

  it('has a 10-year root and a 5-year intermediate, ECDSA P-384, the intermediate limited to issuing leaves', async () => {
    const [intermediatePem, rootPem] = (await (await builtin()).caChainPem()).match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)!;
    const root = new X509Certificate(rootPem);
    const intermediate = new X509Certificate(intermediatePem);
    const years = (c: X509Certificate) => (new Date(c.validTo).getTime() - new Date(c.validFrom).getTime()) / (365.25 * 86_400_000);
    expect(years(root)).toBeCloseTo(10, 1);
    expect(years(intermediate)).toBeCloseTo(5, 1);
    expect(root.publicKey.asymmetricKeyDetails?.namedCurve).toBe('secp384r1');
    expect(intermediate.checkIssued(root) && intermediate.verify(root.publicKey)).toBe(true);
    const { stdout } = await execFileAsync('openssl', ['x509', '-in', await file('int.pem', intermediatePem), '-noout', '-ext', 'basicConstraints']);
    expect(stdout).toMatch(/CA:TRUE, pathlen:0/);
    const [listed] = await listCertificateAuthorities(orm.em);
    expect(listed).toMatchObject({ name: 'builtin', kind: 'internal', disabled: false, policy: { allowedDomains: [], maxValidityDays: 90 } });
    expect(listed.config.rootFingerprintSha256).toBe(root.fingerprint256.replaceAll(':', '').toLowerCase());
  });
});

describe('at rest', () => {
  it('keeps no private key in the clear anywhere in the database', async () => {
    await issueFor(await builtin(), ['at-rest.example.test']);
    const stored = JSON.parse(box.open(caSecretName(BUILTIN_CA_NAME),
      (await orm.em.getConnection().execute<{ sealed: Buffer }[]>('select sealed from secrets where name = ?', [caSecretName(BUILTIN_CA_NAME)]))[0].sealed,
    ).toString()) as StoredCaMaterial;
    const keyBodies = [stored.rootKeyPem, stored.intermediateKeyPem].map((pem) => pem.replace(/-----[^-]+-----|\s/g, ''));
    const keyDers = keyBodies.map((b) => Buffer.from(b, 'base64'));

    // Every row of every table this CA writes, as text and as raw bytes.
    const dump = await orm.em.getConnection().execute<{ t: string }[]>(`
      select row_to_json(c)::text as t from certificate_authorities c
      union all select row_to_json(i)::text from issued_certificates i
      union all select row_to_json(s)::text from secrets s`);
    const text = dump.map((r) => r.t).join('\n');
    expect(text).toContain('BEGIN CERTIFICATE');
    expect(text).not.toMatch(/PRIVATE KEY/);
    for (const body of keyBodies) expect(text).not.toContain(body.slice(20, 80));
    const blobs = await orm.em.getConnection().execute<{ sealed: Buffer }[]>('select sealed from secrets');
    for (const { sealed } of blobs) {
      for (const der of keyDers) expect(sealed.includes(der.subarray(-48))).toBe(false);
    }
  });

  it('cannot be opened with another master key: unhealthy, and issuing says the CA is unavailable', async () => {
    const wrong = await builtin(orm, createSecretBox(randomBytes(32)));
    const health = await wrong.health();
    expect(health.healthy).toBe(false);
    expect(health.detail).toMatch(/cannot be unsealed/);
    await expect(issueFor(wrong, ['wrong-key.example.test'])).rejects.toThrow(IssuerUnavailableError);
  });
});

describe('issuing', () => {
  it('puts the CRL URL, serverAuth, AKI/SKI and a random serial into certificates', async () => {
    const issued = await issueFor(await builtin(), ['ext.example.test']);
    const { stdout } = await execFileAsync('openssl', ['x509', '-in', await file('ext.pem', issued.certificatePem), '-noout', '-text']);
    expect(stdout).toContain(`URI:${PUBLIC_URL}/crl/builtin.crl`);
    expect(stdout).toContain('TLS Web Server Authentication');
    expect(stdout).toContain('X509v3 Authority Key Identifier');
    expect(stdout).toContain('X509v3 Subject Key Identifier');
    expect(issued.serialHex).toMatch(/^01[0-9a-f]{32}$/);
  });

  it('issues IP address SANs and names given in any case', async () => {
    const csr = await makeTestCsr({ dnsNames: ['MiXed.Example.Test'], ipAddresses: ['127.0.0.1', '0:0:0:0:0:0:0:1'] });
    const issued = await (await builtin()).issue({ csrPem: csr.csrPem, dnsNames: ['mixed.example.test'], ipAddresses: ['::1', '127.0.0.1'], idempotencyKey: randomUUID() });
    expect(new X509Certificate(issued.certificatePem).subjectAltName).toBe('DNS:mixed.example.test, IP Address:0:0:0:0:0:0:0:1, IP Address:127.0.0.1');
  });

  it('enforces allowed domains, key types and the validity cap', async () => {
    await setPolicy({ allowedDomains: ['example.org', '*.wild.test'], keyTypes: ['ecdsa-p256'], maxValidityDays: 30 });
    try {
      const issuer = await builtin();
      const ok = await issueFor(issuer, ['example.org', 'a.b.example.org', 'x.wild.test', '*.wild.test']);
      expect((ok.notAfter.getTime() - Date.now()) / 86_400_000).toBeCloseTo(30, 0);
      await expect(issueFor(issuer, ['a.b.wild.test'])).rejects.toThrow(/may not issue for "a.b.wild.test"/);
      await expect(issueFor(issuer, ['wild.test'])).rejects.toThrow(IssuerPolicyError);
      await expect(issueFor(issuer, ['badexample.org'])).rejects.toThrow(IssuerPolicyError);
      const rsa = await makeTestCsr({ dnsNames: ['example.org'], keyType: 'rsa-2048' });
      await expect(issuer.issue({ csrPem: rsa.csrPem, dnsNames: ['example.org'], idempotencyKey: randomUUID() }))
        .rejects.toThrow(/does not issue for rsa-2048 keys/);
    } finally {
      await setPolicy({});
    }
  });

  it('returns a recorded certificate for its key even after the policy stopped allowing it', async () => {
    const issuer = await builtin();
    const csr = await makeTestCsr({ dnsNames: ['before.example.test'] });
    const req = { csrPem: csr.csrPem, dnsNames: ['before.example.test'], idempotencyKey: randomUUID() };
    const first = await issuer.issue(req);
    await setPolicy({ allowedDomains: ['elsewhere.test'] });
    try {
      expect(await (await builtin()).issue(req)).toEqual(first);
    } finally {
      await setPolicy({});
    }
  });

  it('re-signs a key whose signing never got recorded (a crash between the two steps), and records it once', async () => {
    const csr = await makeTestCsr({ dnsNames: ['crash.example.test'] });
    const req = { csrPem: csr.csrPem, dnsNames: ['crash.example.test'], idempotencyKey: randomUUID(), validityDays: 3650 };
    const rows = () => orm.em.getConnection().execute<{ certificate_pem: string | null }[]>(
      'select certificate_pem from issued_certificates where idempotency_key = ?', [req.idempotencyKey]);
    // The signing step fails after the key was committed (a 10-year certificate would outlive the
    // intermediate): what a crash between "key stored" and "certificate recorded" leaves behind.
    await setPolicy({ maxValidityDays: 3650 });
    try {
      await expect((await builtin()).issue(req)).rejects.toThrow(IssuerUnavailableError);
    } finally {
      await setPolicy({});
    }
    expect(await rows()).toEqual([{ certificate_pem: null }]);
    // The retry signs (nothing was recorded, so nothing was handed out), records, and is then stable.
    const issuer = await builtin();
    const issued = await issuer.issue(req);
    expect(await issuer.issue(req)).toEqual(issued);
    expect(await rows()).toEqual([{ certificate_pem: issued.certificatePem }]);
  });

  it('refuses to issue from a disabled CA with IssuerUnavailableError (the workflow falls back)', async () => {
    await orm.em.getConnection().execute(`update certificate_authorities set disabled = true where name = 'builtin'`);
    try {
      const issuer = await builtin();
      await expect(issueFor(issuer, ['disabled.example.test'])).rejects.toThrow(IssuerUnavailableError);
      expect(await issuer.health()).toEqual({ healthy: false, detail: 'disabled' });
    } finally {
      await orm.em.getConnection().execute(`update certificate_authorities set disabled = false where name = 'builtin'`);
    }
  });

  it('is unhealthy when its intermediate expires within the maximum validity', async () => {
    expect((await (await builtin()).health()).healthy).toBe(true);
    await setPolicy({ maxValidityDays: 3650 });
    try {
      const health = await (await builtin()).health();
      expect(health.healthy).toBe(false);
      expect(health.detail).toMatch(/within the 3650-day maximum validity/);
    } finally {
      await setPolicy({});
    }
  });

  it('refuses to load a CA whose stored policy is broken, while still listing it', async () => {
    await orm.em.getConnection().execute(`update certificate_authorities set policy = '{"maxValidityDays": "lots"}'::jsonb where name = 'builtin'`);
    try {
      expect((await listCertificateAuthorities(orm.em)).map((c) => c.name)).toEqual(['builtin']);
      await expect(builtin()).rejects.toThrow(/CA "builtin" has an invalid policy/);
    } finally {
      await setPolicy({});
    }
  });

  it('knows no CA of another name', async () => {
    await expect(loadIssuer(orm.em.fork(), box, 'nope')).rejects.toThrow(UnknownIssuerError);
  });
});

describe('revocation', () => {
  it('lists revoked serials in a CRL signed by the intermediate; openssl rejects the revoked certificate only', async () => {
    const issuer = await builtin();
    const revoked = await issueFor(issuer, ['revoked.example.test']);
    const kept = await issueFor(issuer, ['kept.example.test']);
    // As an operator pastes it from `openssl x509 -serial`: upper case with colons.
    const pasted = revoked.serialHex.toUpperCase().match(/../g)!.join(':');
    const first = await issuer.revokeCertificate(pasted, 'keyCompromise');
    expect(first).toMatchObject({ serialHex: revoked.serialHex, reason: 'keyCompromise', alreadyRevoked: false });
    expect(await issuer.revokeCertificate(revoked.serialHex, 'superseded')).toMatchObject({ reason: 'keyCompromise', alreadyRevoked: true });
    await expect(issuer.revoke('0123456789abcdef')).rejects.toThrow(UnknownSerialError);
    await expect(issuer.revoke(kept.serialHex, 'because')).rejects.toThrow(/unknown revocation reason/);

    const [intermediatePem, rootPem] = (await issuer.caChainPem()).match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)!;
    const crlDer = await file('builtin.crl', await issuer.crl());
    const intermediate = await file('intermediate.pem', intermediatePem + '\n');
    const root = await file('root.pem', rootPem + '\n');
    const crlText = await execFileAsync('openssl', ['crl', '-inform', 'DER', '-in', crlDer, '-CAfile', intermediate, '-noout', '-text']);
    expect(crlText.stderr + crlText.stdout).toMatch(/verify OK/);
    expect(crlText.stdout).toContain(`Serial Number: ${revoked.serialHex.toUpperCase()}`);
    expect(crlText.stdout).toContain('Key Compromise');
    expect(crlText.stdout).not.toContain(kept.serialHex.toUpperCase());
    expect(crlText.stdout).toMatch(/Next Update: /);

    const crlPem = await file('builtin.crl.pem', (await execFileAsync('openssl', ['crl', '-inform', 'DER', '-in', crlDer])).stdout);
    const verify = (leaf: string) => execFileAsync('openssl', ['verify', '-crl_check', '-CAfile', root, '-untrusted', intermediate, '-CRLfile', crlPem, leaf])
      .then((r) => r.stdout, (e: { stdout: string; stderr: string }) => e.stdout + e.stderr);
    expect(await verify(await file('revoked.pem', revoked.certificatePem))).toMatch(/certificate revoked/);
    expect(await verify(await file('kept.pem', kept.certificatePem))).toMatch(/: OK/);
  });
});
