// The CRL of an internal CA: every certificate it revoked, signed by the intermediate that issued them.
// It is made on request from the rows in Postgres, so every replica serves the same list.
import { x509 } from '../../../../proto/shared/x509.js';
import { REVOCATION_REASONS, type RevocationReason } from '../revocation-reasons.js';
import { CA_SIGNING_ALGORITHM, type OpenedCa } from './ca-material.js';

const CRL_NUMBER_OID = '2.5.29.20';
export const CRL_LIFETIME_HOURS = 24;

/** DER INTEGER of a non-negative safe integer. */
function derInteger(value: number): Uint8Array {
  const bytes: number[] = [];
  let v = value;
  do {
    bytes.unshift(v % 256);
    v = Math.floor(v / 256);
  } while (v > 0);
  if (bytes[0] & 0x80) bytes.unshift(0);
  return Uint8Array.from([0x02, bytes.length, ...bytes]);
}

export async function buildCrl(
  ca: OpenedCa,
  revoked: { serialHex: string; revokedAt: Date; reason: RevocationReason }[],
  now = new Date(),
): Promise<Buffer> {
  const thisUpdate = new Date(Math.floor(now.getTime() / 1000) * 1000);
  const crl = await x509.X509CrlGenerator.create({
    issuer: ca.intermediate.subject,
    thisUpdate,
    nextUpdate: new Date(thisUpdate.getTime() + CRL_LIFETIME_HOURS * 3_600_000),
    signingAlgorithm: CA_SIGNING_ALGORITHM,
    signingKey: ca.intermediateKeys.privateKey,
    extensions: [
      await x509.AuthorityKeyIdentifierExtension.create(ca.intermediateKeys.publicKey),
      // CRL numbers must grow: seconds since the epoch do across replicas without any shared counter.
      new x509.Extension(CRL_NUMBER_OID, false, derInteger(Math.floor(thisUpdate.getTime() / 1000))),
    ],
    entries: revoked.map((r) => ({
      serialNumber: r.serialHex,
      revocationDate: r.revokedAt,
      // RFC 5280: the reason code is left out rather than given as "unspecified".
      reason: r.reason === 'unspecified' ? undefined : REVOCATION_REASONS[r.reason] as unknown as x509.X509CrlReason,
    })),
  });
  return Buffer.from(crl.rawData);
}
