// dns-01 through RFC 2136 dynamic update with TSIG, against a real Knot DNS: the provider on its own
// (add, remove one value of two, bad key, name outside the zone), then a whole issuance from a Pebble
// that resolves through that Knot.
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretBox } from '../../controller/src/crypto/master-key.js';
import { KEY_TYPES } from '../../controller/src/db/entities/certificate-authority.js';
import { createOrm, migrate, type Orm } from '../../controller/src/db/orm.js';
import { saveAcmeCa } from '../../controller/src/issuers/acme/acme-store.js';
import { Rfc2136DnsProvider } from '../../controller/src/issuers/acme/dns/rfc2136-dns-provider.js';
import { loadIssuer } from '../../controller/src/issuers/issuer-registry.js';
import { makeTestCsr } from '../support/csr.js';
import { startKnot, type RunningKnot } from '../support/knot.js';
import { startPebble, type RunningPebble } from '../support/pebble.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

const ZONE = 'rfc2136.test';
let knot: RunningKnot;

beforeAll(async () => {
  knot = await startKnot(ZONE);
});
afterAll(async () => {
  await knot?.stop();
});

function provider(secret = knot.tsigSecret, keyName = knot.tsigKeyName) {
  return new Rfc2136DnsProvider({
    kind: 'rfc2136', server: knot.server, zone: ZONE, tsigKeyName: keyName, tsigAlgorithm: 'hmac-sha256', ttl: 60, timeoutMs: 5_000,
  }, secret);
}

describe('RFC 2136 provider against Knot', () => {
  it('adds TXT values and removes exactly the one asked for', async () => {
    const name = `_acme-challenge.www.${ZONE}.`;
    await provider().present(name, 'first-value');
    await provider().present(name, 'second-value');
    expect(await knot.txt(name)).toEqual(['first-value', 'second-value']);
    await provider().cleanup(name, 'first-value');
    expect(await knot.txt(name)).toEqual(['second-value']);
    await provider().cleanup(name, 'second-value');
    expect(await knot.txt(name)).toEqual([]);
  });

  it('a wrong TSIG secret or key name is refused with the server\'s answer', async () => {
    const name = `_acme-challenge.bad.${ZONE}.`;
    await expect(provider(randomBytes(32).toString('base64')).present(name, 'x')).rejects.toThrow(/refused: NOTAUTH, TSIG BADSIG/);
    await expect(provider(knot.tsigSecret, 'other-key').present(name, 'x')).rejects.toThrow(/refused: NOTAUTH, TSIG BADKEY/);
    expect(await knot.txt(name)).toEqual([]);
  });

  it('refuses names outside its zone without sending anything', async () => {
    await expect(provider().present('_acme-challenge.example.com.', 'x')).rejects.toThrow(/not in the zone rfc2136\.test/);
  });
});

describe('issuance with dns-01 over RFC 2136', () => {
  let pebble: RunningPebble;
  let db: TestDatabase;
  let orm: Orm;

  beforeAll(async () => {
    [db, pebble] = await Promise.all([createTestDatabase(), startPebble({ dnsServer: knot.server })]);
    orm = await createOrm(db.url);
    await orm.connect();
    await migrate(orm);
  });
  afterAll(async () => {
    await orm?.close();
    await Promise.all([db?.drop(), pebble?.stop()]);
  });

  it('Pebble validates the records certflow put in Knot, which are gone afterwards', async () => {
    const box = createSecretBox(randomBytes(32));
    await saveAcmeCa(orm.em.fork(), box, {
      name: 'pebble-rfc2136',
      config: {
        directoryUrl: pebble.directoryUrl, trustPem: pebble.tlsTrustPem,
        challenge: { type: 'dns-01', provider: { kind: 'rfc2136', server: knot.server, zone: ZONE, tsigKeyName: knot.tsigKeyName } },
      },
      secrets: { tsigSecret: knot.tsigSecret },
      policy: { allowedDomains: [ZONE], maxValidityDays: 3650, keyTypes: [...KEY_TYPES] },
    });
    const issuer = await loadIssuer(orm.em.fork(), box, 'pebble-rfc2136');
    const names = [`a${randomUUID().slice(0, 6)}.${ZONE}`, `*.b${randomUUID().slice(0, 6)}.${ZONE}`];
    const csr = await makeTestCsr({ dnsNames: names });
    const issued = await issuer.issue({ csrPem: csr.csrPem, dnsNames: names, idempotencyKey: randomUUID() });
    expect(issued.certificatePem).toContain('BEGIN CERTIFICATE');
    for (const name of names) expect(await knot.txt(`_acme-challenge.${name.replace('*.', '')}.`)).toEqual([]);
  });
});
