// issueOnce and its reservation (issued-records.ts) on their own, with a stand-in signer: the key is
// committed before the signer runs, also when a caller said it was reserved and it was not, and the
// signer runs once per key whoever asks, however the key was reserved.
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrm, migrate, type Orm } from '../../controller/src/db/orm.js';
import { findReservation, issueOnce, reserveIdempotencyKey } from '../../controller/src/issuers/issued-records.js';
import { IdempotencyConflictError, type IssuedCertificate, type IssueRequest } from '../../controller/src/issuers/issuer.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

let db: TestDatabase;
let orm: Orm;
const ca = { id: randomUUID(), name: 'records' };

beforeAll(async () => {
  db = await createTestDatabase();
  orm = await createOrm(db.url);
  await orm.connect();
  await migrate(orm);
  await orm.em.getConnection().execute(
    `insert into certificate_authorities (id, name, kind, config, policy, created_at, disabled) values (?, ?, 'internal', '{}', '{}', now(), false)`,
    [ca.id, ca.name]);
});

afterAll(async () => {
  await orm?.close();
  await db?.drop();
});

const request = (): IssueRequest => ({ csrPem: `-----BEGIN CERTIFICATE REQUEST-----\n${randomBytes(32).toString('base64')}\n-----END CERTIFICATE REQUEST-----`, dnsNames: ['r.test'], idempotencyKey: randomUUID() });

function signer(): { sign: () => Promise<IssuedCertificate>; calls: () => number } {
  let calls = 0;
  return {
    calls: () => calls,
    sign: async () => {
      calls++;
      return { certificatePem: 'CERT', chainPem: '', serialHex: randomBytes(8).toString('hex'), notBefore: new Date(), notAfter: new Date(), fingerprintSha256: 'f' };
    },
  };
}

describe('issueOnce', () => {
  it('reserves and commits the key before signing, whether or not the caller said it was reserved', async () => {
    for (const reserved of [false, true]) {
      const req = request();
      let seenBeforeSigning: Awaited<ReturnType<typeof findReservation>> = null;
      const issued = await issueOnce(orm.em, ca, req, ['r.test'], async () => {
        // On another connection: only a committed reservation is visible here.
        seenBeforeSigning = await findReservation(orm.em, ca, req);
        return signer().sign();
      }, { reserved });
      expect(seenBeforeSigning).toEqual({ certificate: null });
      expect((await findReservation(orm.em, ca, req))?.certificate?.serialHex).toBe(issued.serialHex);
    }
  });

  it('signs once per key: a reservation says so, and repeats and concurrent calls get the recorded certificate', async () => {
    const req = request();
    expect(await reserveIdempotencyKey(orm.em, ca, req, ['r.test'])).toBe(true);
    expect(await reserveIdempotencyKey(orm.em, ca, req, ['r.test'])).toBe(false);
    const s = signer();
    const results = await Promise.all([true, false, true].map((reserved) => issueOnce(orm.em, ca, req, ['r.test'], s.sign, { reserved })));
    expect(s.calls()).toBe(1);
    expect(new Set(results.map((r) => r.serialHex)).size).toBe(1);
  });

  it('a key reserved before its CSR (an order placed while the host makes the key) takes the first CSR it is issued for, and only that one', async () => {
    const withCsr = request();
    const beforeCsr: IssueRequest = { ...withCsr, csrPem: '' };
    expect(await reserveIdempotencyKey(orm.em, ca, beforeCsr, ['r.test'])).toBe(true);
    // Asked again before the CSR: the same names fit; other names do not.
    expect(await findReservation(orm.em, ca, beforeCsr, ['r.test'])).toEqual({ certificate: null });
    await expect(findReservation(orm.em, ca, { ...beforeCsr, dnsNames: ['other.test'] }, ['other.test'])).rejects.toBeInstanceOf(IdempotencyConflictError);
    // Any CSR fits until a certificate is recorded; the record binds the key to the CSR it was issued for.
    expect(await findReservation(orm.em, ca, withCsr)).toEqual({ certificate: null });
    const issued = await issueOnce(orm.em, ca, withCsr, ['r.test'], signer().sign, { reserved: true });
    expect((await findReservation(orm.em, ca, withCsr))?.certificate?.serialHex).toBe(issued.serialHex);
    await expect(findReservation(orm.em, ca, { ...withCsr, csrPem: request().csrPem })).rejects.toBeInstanceOf(IdempotencyConflictError);
    // The recorded certificate is found again before a CSR too (a retried first step), by its names.
    expect((await findReservation(orm.em, ca, beforeCsr, ['r.test']))?.certificate?.serialHex).toBe(issued.serialHex);
  });
});
