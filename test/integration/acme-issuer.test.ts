// The ACME issuer's bad days, against a real Pebble (and small stub servers where Pebble cannot misbehave
// on demand): CA unreachable, directory malformed, rate limited, challenge failing, DNS hook failing,
// account deactivated, a crash between ordering and recording, and revocation.
import * as acme from 'acme-client';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretBox, type SecretBox } from '../../controller/src/crypto/master-key.js';
import { KEY_TYPES } from '../../controller/src/db/entities/certificate-authority.js';
import { createOrm, migrate, type Orm } from '../../controller/src/db/orm.js';
import type { AcmeConfigInput } from '../../controller/src/issuers/acme/acme-config.js';
import { AcmeChallengeError } from '../../controller/src/issuers/acme/acme-errors.js';
import { AcmeIssuer, type AcmeCaRow, type AcmeIssuerHooks } from '../../controller/src/issuers/acme/acme-issuer.js';
import { loadOrCreateAccount, saveAcmeCa } from '../../controller/src/issuers/acme/acme-store.js';
import { loadIssuer } from '../../controller/src/issuers/issuer-registry.js';
import { IssuerPolicyError, IssuerUnavailableError, type HealthCheckedIssuer, type IssueRequest } from '../../controller/src/issuers/issuer.js';
import { makeTestCsr } from '../support/csr.js';
import { closedPort, freePort } from '../support/free-port.js';
import { startPebble, type RunningPebble } from '../support/pebble.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

const HOOK = fileURLToPath(new URL('../support/challtestsrv-dns-hook.mjs', import.meta.url));
const POLICY = { allowedDomains: ['acme.test'], maxValidityDays: 3650, keyTypes: [...KEY_TYPES] };

let db: TestDatabase;
let orm: Orm;
let pebble: RunningPebble;
let box: SecretBox;
const servers: Server[] = [];

beforeAll(async () => {
  [db, pebble] = await Promise.all([createTestDatabase(), startPebble()]);
  orm = await createOrm(db.url);
  await orm.connect();
  await migrate(orm);
  box = createSecretBox(randomBytes(32));
});

afterAll(async () => {
  for (const s of servers) s.close();
  await orm?.close();
  await Promise.all([db?.drop(), pebble?.stop()]);
});

function pebbleConfig(overrides: Partial<AcmeConfigInput> = {}): AcmeConfigInput {
  return {
    directoryUrl: pebble.directoryUrl,
    trustPem: pebble.tlsTrustPem,
    challenge: { type: 'dns-01', provider: { kind: 'exec', command: [process.execPath, HOOK, pebble.challtestsrvUrl] } },
    ...overrides,
  };
}

async function addCa(config: AcmeConfigInput, hooks?: AcmeIssuerHooks, policy = POLICY): Promise<AcmeIssuer> {
  const name = `ca-${randomUUID().slice(0, 8)}`;
  await saveAcmeCa(orm.em.fork(), box, { name, config, policy });
  const loaded = await loadIssuer(orm.em.fork(), box, name) as AcmeIssuer;
  if (!hooks) return loaded;
  const [row] = await orm.em.getConnection().execute<AcmeCaRow[]>('select id, name, config, policy, disabled from certificate_authorities where name = ?', [name]);
  return new AcmeIssuer(orm.em.fork(), box, row, hooks);
}

async function request(names = [`h${randomUUID().slice(0, 8)}.acme.test`]): Promise<IssueRequest> {
  const csr = await makeTestCsr({ dnsNames: names });
  return { csrPem: csr.csrPem, dnsNames: names, idempotencyKey: randomUUID() };
}

/** A plain HTTP server standing in for a broken ACME server; `handler` answers every request. */
async function stubServer(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const port = await freePort();
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return `http://127.0.0.1:${port}`;
}

describe('CA unreachable or broken', () => {
  it('an unreachable CA is unhealthy and refuses to issue with IssuerUnavailableError, at once (no retries)', async () => {
    const issuer = await addCa(pebbleConfig({ directoryUrl: `https://127.0.0.1:${await closedPort()}/dir` }));
    const started = Date.now();
    const health = await issuer.health();
    expect(health.healthy).toBe(false);
    expect(health.detail).toMatch(/cannot reach the CA: ECONNREFUSED/);
    const failure = issuer.issue(await request());
    await expect(failure).rejects.toThrow(IssuerUnavailableError);
    await expect(failure).rejects.toThrow(/ECONNREFUSED/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('a malformed directory is reported as such', async () => {
    const base = await stubServer((_req, res) => res.setHeader('content-type', 'application/json').end(JSON.stringify({ newNonce: 'x', meta: {} })));
    const issuer = await addCa(pebbleConfig({ directoryUrl: `${base}/dir`, trustPem: undefined }));
    const health = await issuer.health();
    expect(health).toEqual({ healthy: false, detail: expect.stringMatching(/directory at .* is malformed: "newNonce" is not a URL/) });
    await expect(issuer.issue(await request())).rejects.toThrow(IssuerUnavailableError);
    const html = await stubServer((_req, res) => res.end('<html>maintenance</html>'));
    const issuer2 = await addCa(pebbleConfig({ directoryUrl: `${html}/dir`, trustPem: undefined }));
    expect((await issuer2.health()).detail).toMatch(/is not a JSON object/);
  });

  it('a Retry-After within the limit is waited out once; a longer one fails at once and keeps later calls away', async () => {
    let calls = 0;
    const base = await stubServer((req, res) => {
      calls++;
      if (req.url === '/short' && calls === 1) return res.writeHead(503, { 'retry-after': '1' }).end();
      if (req.url === '/long') {
        return res.writeHead(429, { 'retry-after': '120', 'content-type': 'application/problem+json' })
          .end(JSON.stringify({ type: 'urn:ietf:params:acme:error:rateLimited', detail: 'too many new orders recently' }));
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ newNonce: `http://${req.headers.host}/n`, newAccount: `http://${req.headers.host}/a`, newOrder: `http://${req.headers.host}/o` }));
    });
    const short = await addCa(pebbleConfig({ directoryUrl: `${base}/short`, trustPem: undefined, maxRetryAfterSeconds: 5 }));
    const started = Date.now();
    // The directory is fine after the wait; the (stub) account then fails, which is not what this checks.
    expect((await short.health()).detail).not.toMatch(/HTTP 503/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(calls).toBeGreaterThanOrEqual(2);

    const longBase = await stubServer((_req, res) => {
      calls++;
      res.writeHead(429, { 'retry-after': '120', 'content-type': 'application/problem+json' })
        .end(JSON.stringify({ type: 'urn:ietf:params:acme:error:rateLimited', detail: 'too many new orders recently' }));
    });
    const long = await addCa(pebbleConfig({ directoryUrl: `${longBase}/dir`, trustPem: undefined, maxRetryAfterSeconds: 5 }));
    calls = 0;
    const first = await long.health();
    expect(first.detail).toMatch(/too many new orders recently/);
    expect(calls).toBe(1);
    const again = long.issue(await request());
    await expect(again).rejects.toThrow(IssuerUnavailableError);
    await expect(again).rejects.toThrow(/rate-limits this client until/);
    expect(calls).toBe(1);
  });
});

describe('challenges', () => {
  it('a challenge the CA cannot validate fails with the CA\'s own reason (IssuerPolicyError, no fallback)', async () => {
    // The hook "succeeds" without setting anything: Pebble finds no TXT record.
    const issuer = await addCa(pebbleConfig({ challenge: { type: 'dns-01', provider: { kind: 'exec', command: ['true'] } } }));
    const failure = issuer.issue(await request());
    await expect(failure).rejects.toThrow(AcmeChallengeError);
    await expect(failure).rejects.toThrow(IssuerPolicyError);
    await expect(failure).rejects.toThrow(/could not validate h[0-9a-f]{8}\.acme\.test with dns-01: .*(TXT|DNS)/i);
  });

  it('a failing DNS hook fails the order with the hook\'s output, before the CA is asked to validate', async () => {
    const issuer = await addCa(pebbleConfig({ challenge: { type: 'dns-01', provider: { kind: 'exec', command: ['sh', '-c', 'echo "api token expired" >&2; exit 3', 'hook'] } } }));
    const failure = issuer.issue(await request());
    await expect(failure).rejects.toThrow(IssuerUnavailableError);
    await expect(failure).rejects.toThrow(/DNS hook sh present _acme-challenge\.h[0-9a-f]{8}\.acme\.test\. failed .*api token expired/);
  });

  it('an IP address cannot be validated with dns-01', async () => {
    const issuer = await addCa(pebbleConfig(), undefined, { ...POLICY, allowedDomains: ['acme.test', '127.0.0.1'] });
    const csr = await makeTestCsr({ dnsNames: ['ip.acme.test'], ipAddresses: ['127.0.0.1'] });
    await expect(issuer.issue({ csrPem: csr.csrPem, dnsNames: ['ip.acme.test'], ipAddresses: ['127.0.0.1'], idempotencyKey: randomUUID() }))
      .rejects.toThrow(/dns-01, which cannot prove IP addresses/);
  });
});

describe('http-01', () => {
  it('validates through the request\'s responder (what the target host\'s agent does), and refuses without one', async () => {
    // Pebble connects to port httpChallengePort of 127.0.0.1 (challtestsrv resolves every name there).
    const tokens = new Map<string, string>();
    const port = pebble.httpChallengePort;
    const server = createServer((req, res) => {
      const token = /^\/\.well-known\/acme-challenge\/([\w-]+)$/.exec(req.url ?? '')?.[1];
      const answer = token ? tokens.get(token) : undefined;
      if (answer) res.end(answer);
      else res.writeHead(404).end();
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    const issuer = await addCa(pebbleConfig({ challenge: { type: 'http-01', port } }));
    const seen: string[] = [];
    const req = await request();
    await expect(issuer.issue(req)).rejects.toThrow(/validates with http-01, which needs the target host's agent/);
    const issued = await issuer.issue({ ...req, http01Responder: {
      async present(token, keyAuthorization) {
        seen.push(`present ${token}`);
        tokens.set(token, keyAuthorization);
      },
      async cleanup(token) {
        seen.push(`cleanup ${token}`);
        tokens.delete(token);
      },
    } });
    expect(issued.certificatePem).toContain('BEGIN CERTIFICATE');
    expect(seen).toHaveLength(2);
    expect(tokens.size).toBe(0);
    server.close();
  });
});

describe('account', () => {
  it('the account key is made once and reused; a deactivated account makes the CA unhealthy with the CA\'s words', async () => {
    const issuer = await addCa(pebbleConfig());
    expect(await issuer.health()).toEqual({ healthy: true, detail: expect.stringMatching(/directory and account valid/) });
    const account = await loadOrCreateAccount(orm.em.fork(), box, issuer.name);
    expect(account.accountUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/my-account\//);
    await issuer.issue(await request());
    expect(await loadOrCreateAccount(orm.em.fork(), box, issuer.name)).toEqual(account);
    // Not stored in the clear: the sealed value does not contain the key.
    const [row] = await orm.em.getConnection().execute('select sealed from secrets where name = ?', [`acme-account:${issuer.name}`]);
    expect(Buffer.from(row.sealed).toString('latin1')).not.toContain('PRIVATE KEY');

    const client = new acme.Client({ directoryUrl: pebble.directoryUrl, accountKey: account.keyPem, accountUrl: account.accountUrl });
    await client.updateAccount({ status: 'deactivated' });
    const fresh = await addCaNamed(issuer.name);
    const health = await fresh.health();
    expect(health.healthy).toBe(false);
    expect(health.detail).toMatch(/deactivated/i);
    await expect(fresh.issue(await request())).rejects.toThrow(IssuerUnavailableError);
  });
});

async function addCaNamed(name: string): Promise<HealthCheckedIssuer & AcmeIssuer> {
  return await loadIssuer(orm.em.fork(), box, name) as AcmeIssuer;
}

describe('at most once per idempotency key', () => {
  it('a crash after the CA issued but before the certificate was recorded resumes the same order', async () => {
    const crashing = await addCa(pebbleConfig(), { afterFinalize: async () => { throw new Error('simulated crash'); } });
    const req = await request();
    await expect(crashing.issue(req)).rejects.toThrow('simulated crash');
    const conn = orm.em.getConnection();
    const [record] = await conn.execute('select certificate_pem from issued_certificates where idempotency_key = ?', [req.idempotencyKey]);
    expect(record.certificate_pem).toBeNull(); // nothing half-recorded
    const [order] = await conn.execute('select order_url, updated_at from acme_orders where idempotency_key = ?', [req.idempotencyKey]);
    expect(order.order_url).toMatch(/\/my-order\//);

    const restarted = await addCaNamed(crashing.name);
    const issued = await restarted.issue(req);
    const orders = await conn.execute('select order_url, updated_at from acme_orders where idempotency_key = ?', [req.idempotencyKey]);
    expect(orders).toEqual([order]); // the same order, not a second one
    // The certificate is the one Pebble issued for that order.
    const client = new acme.Client({ directoryUrl: pebble.directoryUrl, accountKey: (await loadOrCreateAccount(orm.em.fork(), box, crashing.name)).keyPem });
    await client.createAccount({ onlyReturnExisting: true });
    const pebbleOrder = await client.getOrder({ url: order.order_url } as acme.Order);
    expect(await client.getCertificate(pebbleOrder)).toContain(issued.certificatePem.trim());
    expect(await restarted.issue(req)).toEqual(issued);
  });
});

describe('revocation', () => {
  it('revokes at the CA and records it; again answers alreadyRevoked', async () => {
    const issuer = await addCa(pebbleConfig());
    const issued = await issuer.issue(await request());
    const result = await issuer.revokeCertificate(issued.serialHex.toUpperCase(), 'keyCompromise');
    expect(result).toMatchObject({ reason: 'keyCompromise', alreadyRevoked: false });
    expect((await pebble.certStatus(issued.serialHex)).Status).toBe('Revoked');
    expect(await issuer.revokeCertificate(issued.serialHex)).toMatchObject({ alreadyRevoked: true, reason: 'keyCompromise' });
    await expect(issuer.revokeCertificate('0badc0de')).rejects.toThrow(/has issued no certificate with serial/);
  });
});
