// A change to an ACME CA (PUT /api/v1/cas: ca-admin's updateCa) takes effect for the very next issue,
// although loadIssuer keeps opened setups and parsed policies: each is reused only while the stored row
// and sealed secrets are the ones it was made from. Nothing here reaches a CA: every refusal comes first.
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretBox, type SecretBox } from '../../controller/src/crypto/master-key.js';
import { createOrm, migrate, type Orm } from '../../controller/src/db/orm.js';
import type { AcmeIssuer } from '../../controller/src/issuers/acme/acme-issuer.js';
import { createAcmeCa, updateCa } from '../../controller/src/issuers/ca-admin.js';
import { loadIssuer } from '../../controller/src/issuers/issuer-registry.js';
import { IssuerPolicyError, IssuerUnavailableError } from '../../controller/src/issuers/issuer.js';
import { makeTestCsr } from '../support/csr.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

let db: TestDatabase;
let orm: Orm;
let box: SecretBox;

beforeAll(async () => {
  db = await createTestDatabase();
  orm = await createOrm(db.url);
  await orm.connect();
  await migrate(orm);
  box = createSecretBox(randomBytes(32));
});

afterAll(async () => {
  await orm?.close();
  await db?.drop();
});

const load = () => loadIssuer(orm.em.fork(), box, 'changing') as Promise<AcmeIssuer>;

async function request(name: string) {
  const csr = await makeTestCsr({ dnsNames: [name] });
  return { csrPem: csr.csrPem, dnsNames: [name], idempotencyKey: randomUUID() };
}

describe('a changed ACME CA', () => {
  it('is used as changed by the next loadIssuer: challenge, policy, secrets, disabled', async () => {
    await createAcmeCa(orm.em, box, {
      name: 'changing', actor: 'test', disabled: false,
      config: { directoryUrl: 'https://127.0.0.1:1/dir', challenge: { type: 'dns-01', provider: { kind: 'exec', command: ['/bin/true'] } } },
      policy: { allowedDomains: ['one.test'], maxValidityDays: 90, keyTypes: ['ecdsa-p256'] },
    });
    expect(await (await load()).agentHttp01()).toBeNull();

    await updateCa(orm.em, box, 'changing', { actor: 'test', config: { challenge: { type: 'http-01', port: 8402, serveSeconds: 600 } } });
    expect(await (await load()).agentHttp01()).toMatchObject({ port: 8402 });

    await expect((await load()).issue(await request('a.two.test'))).rejects.toThrow(IssuerPolicyError);
    await updateCa(orm.em, box, 'changing', { actor: 'test', policy: { allowedDomains: ['two.test'], maxValidityDays: 90, keyTypes: ['ecdsa-p256'] } });
    // Now allowed by the policy: refused further on, for want of an agent to answer http-01.
    await expect((await load()).issue(await request('a.two.test'))).rejects.toThrow(/needs the target host's agent/);

    // An EAB key id with its key (a secret), then the key id alone: the sealed secrets are read again.
    await updateCa(orm.em, box, 'changing', { actor: 'test', config: { eab: { keyId: 'kid-1', hmacKey: randomBytes(32).toString('base64url') } } });
    expect(await (await load()).agentHttp01()).toMatchObject({ port: 8402 });
    await orm.em.getConnection().execute("delete from secrets where name = 'acme-secrets:changing'");
    await expect((await load()).agentHttp01()).rejects.toThrow(/eabHmacKey is missing/);
    await updateCa(orm.em, box, 'changing', { actor: 'test', config: { eab: { keyId: 'kid-1', hmacKey: randomBytes(32).toString('base64url') } } });

    await updateCa(orm.em, box, 'changing', { actor: 'test', disabled: true });
    await expect((await load()).prepare(await request('b.two.test'))).rejects.toThrow(IssuerUnavailableError);
    await updateCa(orm.em, box, 'changing', { actor: 'test', disabled: false });
    await expect((await load()).prepare(await request('b.two.test'))).rejects.not.toThrow(/disabled/);
  });
});
