// External account binding against Pebble in its EAB mode, and ACME Renewal Information (RFC 9773)
// against a small stub server (Pebble 2.4 has no ARI): the certificate's ARI identifier is checked
// against one built from openssl's output.
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretBox, type SecretBox } from '../../controller/src/crypto/master-key.js';
import { KEY_TYPES } from '../../controller/src/db/entities/certificate-authority.js';
import { createOrm, migrate, type Orm } from '../../controller/src/db/orm.js';
import type { AcmeConfigInput, AcmeSecrets } from '../../controller/src/issuers/acme/acme-config.js';
import { saveAcmeCa } from '../../controller/src/issuers/acme/acme-store.js';
import { loadIssuer } from '../../controller/src/issuers/issuer-registry.js';
import { hasRenewalInfo, IssuerUnavailableError, type Issuer, type IssuedCertificate } from '../../controller/src/issuers/issuer.js';
import { makeTestCsr } from '../support/csr.js';
import { freePort } from '../support/free-port.js';
import { startPebble, type RunningPebble } from '../support/pebble.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

const HOOK = fileURLToPath(new URL('../support/challtestsrv-dns-hook.mjs', import.meta.url));
const EAB_KEYS = { 'kid-1': 'zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W' };
const POLICY = { allowedDomains: ['acme.test'], maxValidityDays: 3650, keyTypes: [...KEY_TYPES] };

let db: TestDatabase;
let orm: Orm;
let pebble: RunningPebble;
let box: SecretBox;

beforeAll(async () => {
  [db, pebble] = await Promise.all([createTestDatabase(), startPebble({ eabKeys: EAB_KEYS })]);
  orm = await createOrm(db.url);
  await orm.connect();
  await migrate(orm);
  box = createSecretBox(randomBytes(32));
});
afterAll(async () => {
  await orm?.close();
  await Promise.all([db?.drop(), pebble?.stop()]);
});

async function addCa(config: Partial<AcmeConfigInput>, secrets: AcmeSecrets = {}): Promise<Issuer> {
  const name = `ca-${randomUUID().slice(0, 8)}`;
  await saveAcmeCa(orm.em.fork(), box, {
    name, secrets, policy: POLICY,
    config: {
      directoryUrl: pebble.directoryUrl, trustPem: pebble.tlsTrustPem,
      challenge: { type: 'dns-01', provider: { kind: 'exec', command: [process.execPath, HOOK, pebble.challtestsrvUrl] } },
      ...config,
    },
  });
  return loadIssuer(orm.em.fork(), box, name);
}

async function issueOne(issuer: Issuer): Promise<IssuedCertificate> {
  const names = [`h${randomUUID().slice(0, 8)}.acme.test`];
  const csr = await makeTestCsr({ dnsNames: names });
  return issuer.issue({ csrPem: csr.csrPem, dnsNames: names, idempotencyKey: randomUUID() });
}

let pebbleCertificate: IssuedCertificate;

describe('external account binding (Pebble in EAB mode)', () => {
  it('registers with the key id and HMAC key, then issues', async () => {
    const issuer = await addCa({ eabKeyId: 'kid-1' }, { eabHmacKey: EAB_KEYS['kid-1'] });
    pebbleCertificate = await issueOne(issuer);
    expect(pebbleCertificate.certificatePem).toContain('BEGIN CERTIFICATE');
  });

  it('without a binding, or with a wrong HMAC key, the CA refuses the account in its own words', async () => {
    const none = await addCa({});
    const health = await (none as Issuer & { health(): Promise<{ healthy: boolean; detail: string }> }).health();
    expect(health.healthy).toBe(false);
    expect(health.detail).toMatch(/external account binding|externalAccountRequired/i);
    const wrong = await addCa({ eabKeyId: 'kid-1' }, { eabHmacKey: randomBytes(48).toString('base64url') });
    await expect(issueOne(wrong)).rejects.toThrow(IssuerUnavailableError);
    await expect(issueOne(wrong)).rejects.toThrow(/ACME account/);
  });

  it('a key id without its HMAC key is a configuration error, refused when saved', async () => {
    await expect(addCa({ eabKeyId: 'kid-1' })).rejects.toThrow(/eabKeyId is set but the secret eabHmacKey is missing/);
  });
});

/** RFC 9773's identifier, from openssl's view of the certificate. */
function opensslAriId(certificatePem: string): string {
  const text = execFileSync('openssl', ['x509', '-noout', '-serial', '-ext', 'authorityKeyIdentifier'], { input: certificatePem }).toString();
  const serial = /serial=([0-9A-F]+)/.exec(text)![1];
  const aki = /([0-9A-F]{2}(?::[0-9A-F]{2})+)/.exec(text.split('Authority Key Identifier')[1])![1].replaceAll(':', '');
  let serialHex = serial.length % 2 ? '0' + serial : serial;
  if (parseInt(serialHex.slice(0, 2), 16) >= 0x80) serialHex = '00' + serialHex;
  return `${Buffer.from(aki, 'hex').toString('base64url')}.${Buffer.from(serialHex, 'hex').toString('base64url')}`;
}

describe('ACME Renewal Information (stub ARI server)', () => {
  let server: Server;
  let base: string;
  const asked: string[] = [];
  let answer: { status: number; body: unknown } = { status: 200, body: {} };

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = createServer((req, res) => {
      if (req.url === '/dir') {
        res.setHeader('content-type', 'application/json');
        return res.end(JSON.stringify({ newNonce: `${base}/n`, newAccount: `${base}/a`, newOrder: `${base}/o`, renewalInfo: `${base}/renewal-info` }));
      }
      asked.push(req.url!);
      res.writeHead(answer.status, { 'content-type': 'application/json', 'retry-after': '3600' }).end(JSON.stringify(answer.body));
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  });
  afterAll(() => server?.close());

  it('reads the suggested window and Retry-After for the certificate\'s identifier', async () => {
    const issuer = await addCa({ directoryUrl: `${base}/dir`, trustPem: undefined });
    expect(hasRenewalInfo(issuer)).toBe(true);
    if (!hasRenewalInfo(issuer)) return;
    answer = { status: 200, body: { suggestedWindow: { start: '2030-01-01T00:00:00Z', end: '2030-01-03T00:00:00Z' }, explanationURL: 'https://ca.example/why' } };
    const info = await issuer.renewalInfo(pebbleCertificate.certificatePem);
    expect(asked.at(-1)).toBe(`/renewal-info/${opensslAriId(pebbleCertificate.certificatePem)}`);
    expect(info).toEqual({
      suggestedWindow: { start: new Date('2030-01-01T00:00:00Z'), end: new Date('2030-01-03T00:00:00Z') },
      explanationUrl: 'https://ca.example/why',
      retryAfter: expect.any(Date),
    });
    expect(Math.abs(info!.retryAfter.getTime() - (Date.now() + 3600_000))).toBeLessThan(10_000);

    answer = { status: 200, body: { suggestedWindow: { start: '2030-01-03T00:00:00Z', end: '2030-01-01T00:00:00Z' } } };
    await expect(issuer.renewalInfo(pebbleCertificate.certificatePem)).rejects.toThrow(/no valid suggestedWindow/);
  });

  it('a CA without renewalInfo in its directory (Pebble 2.4) gives null', async () => {
    const issuer = await addCa({ eabKeyId: 'kid-1' }, { eabHmacKey: EAB_KEYS['kid-1'] });
    if (!hasRenewalInfo(issuer)) throw new Error('no renewalInfo ability');
    expect(await issuer.renewalInfo(pebbleCertificate.certificatePem)).toBeNull();
  });
});
