// Issuing at most once per idempotency key. The key is written and committed before anything is signed
// or ordered; the signing then runs while holding that row's lock, and the certificate is recorded in
// the same transaction. So:
// - a repeat of a recorded key returns the recorded certificate;
// - two calls with the same key at once sign once (the second waits for the lock, then finds the record);
// - a crash before the record commits leaves the key without a certificate, and the next call signs
//   again; nothing signed without being recorded was ever handed out.
import type { EntityManager } from '@mikro-orm/postgresql';
import { createHash, randomUUID } from 'node:crypto';
import { IdempotencyConflictError, IssuerPolicyError, type IssueRequest, type IssuedCertificate } from './issuer.js';
import { REVOCATION_REASON_NAMES, REVOCATION_REASONS, type RevocationReason } from './revocation-reasons.js';

interface RecordRow {
  id: string;
  request_sha256: string;
  serial_hex: string | null;
  not_before: Date | null;
  not_after: Date | null;
  fingerprint_sha256: string | null;
  certificate_pem: string | null;
  chain_pem: string | null;
  names: string[];
}

const RECORD_COLUMNS = 'id, request_sha256, serial_hex, not_before, not_after, fingerprint_sha256, certificate_pem, chain_pem, names';

/** What identifies a request apart from its key: the CSR's base64 body, the names and the validity. */
export function requestSha256(req: IssueRequest): string {
  const csrBody = String(req.csrPem ?? '').replace(/-----[^-]+-----|\s/g, '');
  const canonical = JSON.stringify({
    csr: csrBody,
    dns: [...(req.dnsNames ?? [])].map((n) => n.toLowerCase()).sort(),
    ip: [...(req.ipAddresses ?? [])].sort(),
    days: req.validityDays ?? null,
  });
  return createHash('sha256').update(canonical).digest('hex');
}

function checkKey(key: unknown): string {
  if (typeof key !== 'string' || key.length === 0 || key.length > 200) {
    throw new IssuerPolicyError('idempotencyKey must be a non-empty string of at most 200 characters');
  }
  return key;
}

function recorded(row: RecordRow): IssuedCertificate | null {
  if (row.certificate_pem === null) return null;
  return {
    certificatePem: row.certificate_pem,
    chainPem: row.chain_pem ?? '',
    serialHex: row.serial_hex!,
    notBefore: new Date(row.not_before!),
    notAfter: new Date(row.not_after!),
    fingerprintSha256: row.fingerprint_sha256!,
  };
}

/**
 * The request is the one the key was reserved for. A key reserved before its CSR existed (an order placed
 * while the host made the key: csrPem empty) holds the hash without a CSR: any CSR then fits it until a
 * certificate is recorded (issueOnce then stores the full hash), and a request still without a CSR fits
 * a key reserved with one when the names are the same.
 */
function sameRequest(caName: string, key: string, row: RecordRow, req: IssueRequest, names: readonly string[] | null): void {
  if (row.request_sha256 === requestSha256(req)) return;
  const beforeCsr = !req.csrPem;
  if (!beforeCsr && row.certificate_pem === null && row.request_sha256 === requestSha256({ ...req, csrPem: '' })) return;
  if (beforeCsr && names && JSON.stringify(row.names) === JSON.stringify(names)) return;
  throw new IdempotencyConflictError(`idempotency key "${key}" was already used at CA "${caName}" for a different request (CSR, names or validity)`);
}

/**
 * The request's key as stored (checked against the request): null when it was never reserved, else the
 * certificate recorded for it, if any. Rows are never deleted, so a key seen reserved stays reserved.
 */
export async function findReservation(
  em: EntityManager, ca: { id: string; name: string }, req: IssueRequest, names: readonly string[] | null = null,
): Promise<{ certificate: IssuedCertificate | null } | null> {
  const key = checkKey(req.idempotencyKey);
  const [row] = await em.getConnection().execute<RecordRow[]>(
    `select ${RECORD_COLUMNS} from issued_certificates where ca_id = ? and idempotency_key = ?`, [ca.id, key]);
  if (!row) return null;
  sameRequest(ca.name, key, row, req, names);
  return { certificate: recorded(row) };
}

/** The certificate recorded for this key, if there is one (checked against the request; `names` for a request without a CSR). */
export async function findRecorded(
  em: EntityManager, ca: { id: string; name: string }, req: IssueRequest, names: readonly string[] | null = null,
): Promise<IssuedCertificate | null> {
  return (await findReservation(em, ca, req, names))?.certificate ?? null;
}

/**
 * Writes and commits the request's key (without a certificate) unless it exists; an issuer that orders in
 * steps (StagedIssuer.prepare) calls this before placing the order, as issueOnce does before signing.
 * True when this call wrote it.
 */
export async function reserveIdempotencyKey(em: EntityManager, ca: { id: string; name: string }, req: IssueRequest, names: string[]): Promise<boolean> {
  const key = checkKey(req.idempotencyKey);
  const inserted = await em.getConnection().execute<{ id: string }[]>(
    `insert into issued_certificates (id, ca_id, idempotency_key, request_sha256, names, requested_at)
     values (?, ?, ?, ?, ?::jsonb, ?) on conflict (ca_id, idempotency_key) do nothing returning id`,
    [randomUUID(), ca.id, key, requestSha256(req), JSON.stringify(names), new Date()]);
  return inserted.length > 0;
}

/**
 * Returns the certificate recorded for the request's key, or runs `sign` once and records its result.
 * `names` is what the record lists (DNS names then IP addresses). `reserved`: the caller saw the key
 * reserved (findReservation, or its own reserveIdempotencyKey), so it is not written again.
 */
export async function issueOnce(
  em: EntityManager,
  ca: { id: string; name: string },
  req: IssueRequest,
  names: string[],
  sign: (stored: { acmeOrderUrl: string | null }) => Promise<IssuedCertificate>,
  options: { reserved?: boolean } = {},
): Promise<IssuedCertificate> {
  const key = checkKey(req.idempotencyKey);
  const hash = requestSha256(req);
  // Step 1, committed on its own: the key exists before the CA does anything.
  if (!options.reserved) await reserveIdempotencyKey(em, ca, req, names);
  // Step 2: sign and record under the row's lock.
  return em.fork().transactional(async (tx) => {
    // With the ACME order stored for the key, if any (acme-orders.ts): the issuer need not read it again.
    const lockRow = () => tx.execute<(RecordRow & { acme_order_url: string | null })[]>(
      `select ${RECORD_COLUMNS},
         (select o.order_url from acme_orders o where o.ca_id = r.ca_id and o.idempotency_key = r.idempotency_key) as acme_order_url
       from issued_certificates r where ca_id = ? and idempotency_key = ? for update of r`, [ca.id, key]);
    let [row] = await lockRow();
    if (!row) {
      // Not there after all: reserved now, committed on its own connection, then locked (read committed sees it).
      await reserveIdempotencyKey(em, ca, req, names);
      [row] = await lockRow();
    }
    sameRequest(ca.name, key, row, req, names);
    const existing = recorded(row);
    if (existing) return existing;
    const issued = await sign({ acmeOrderUrl: row.acme_order_url });
    // With the request's full hash: a key reserved before its CSR is bound to the CSR it was issued for.
    await tx.execute(
      `update issued_certificates set serial_hex = ?, not_before = ?, not_after = ?, fingerprint_sha256 = ?,
       certificate_pem = ?, chain_pem = ?, issued_at = ?, request_sha256 = ? where id = ?`,
      [issued.serialHex, issued.notBefore, issued.notAfter, issued.fingerprintSha256, issued.certificatePem,
        issued.chainPem, new Date(), hash, row.id], 'run');
    return issued;
  });
}

// --- revocation ------------------------------------------------------------------------------------

export class UnknownSerialError extends Error {
  override name = 'UnknownSerialError';
}

/** Serials as people paste them (`01:AB:...`, upper case, `0x`) in the stored form: lower-case hex, no leading zeros. */
export function normalizeSerial(serial: string): string {
  const hex = serial.trim().toLowerCase().replace(/^0x/, '').replace(/[:\s-]/g, '');
  if (!/^[0-9a-f]{1,64}$/.test(hex)) throw new IssuerPolicyError(`"${serial}" is not a hexadecimal serial number`);
  return hex.replace(/^0+(?=.)/, '');
}

/** The stored forms a normalized serial can have (DER integers: whole bytes, maybe a leading zero byte), so the lookup uses the index. */
function serialCandidates(hex: string): string[] {
  const even = hex.length % 2 ? '0' + hex : hex;
  return [...new Set([hex, even, '00' + even])];
}

export interface RevocationResult {
  serialHex: string;
  revokedAt: Date;
  reason: RevocationReason;
  /** It was revoked before this call; its first revocation time and reason stand. */
  alreadyRevoked: boolean;
}

/**
 * Marks a certificate this CA issued as revoked. Revoking again changes nothing and says so. Runs in the
 * caller's transaction if there is one, so a revocation and its audit entry commit together.
 */
export async function revokeRecorded(em: EntityManager, ca: { id: string; name: string }, serial: string, reason: string = 'unspecified'): Promise<RevocationResult> {
  if (!(reason in REVOCATION_REASONS)) {
    throw new IssuerPolicyError(`unknown revocation reason "${reason}" (one of ${REVOCATION_REASON_NAMES.join(', ')})`);
  }
  const hex = normalizeSerial(serial);
  const candidates = serialCandidates(hex);
  return em.transactional(async (tx) => {
    const [row] = await tx.execute<{ id: string; serial_hex: string; revoked_at: Date | null; revocation_reason: string | null }[]>(
      `select id, serial_hex, revoked_at, revocation_reason from issued_certificates
       where ca_id = ? and serial_hex in (${candidates.map(() => '?').join(', ')}) and certificate_pem is not null for update`,
      [ca.id, ...candidates]);
    if (!row) throw new UnknownSerialError(`CA "${ca.name}" has issued no certificate with serial ${serial}`);
    if (row.revoked_at) {
      return { serialHex: row.serial_hex, revokedAt: new Date(row.revoked_at), reason: row.revocation_reason as RevocationReason, alreadyRevoked: true };
    }
    const revokedAt = new Date(Math.floor(Date.now() / 1000) * 1000);
    await tx.execute('update issued_certificates set revoked_at = ?, revocation_reason = ? where id = ?', [revokedAt, reason, row.id], 'run');
    return { serialHex: row.serial_hex, revokedAt, reason: reason as RevocationReason, alreadyRevoked: false };
  });
}

/** Every revoked certificate of a CA, for its CRL. */
export async function listRevoked(em: EntityManager, caId: string): Promise<{ serialHex: string; revokedAt: Date; reason: RevocationReason }[]> {
  const rows = await em.fork().getConnection().execute<{ serial_hex: string; revoked_at: Date; revocation_reason: string | null }[]>(
    `select serial_hex, revoked_at, revocation_reason from issued_certificates
     where ca_id = ? and revoked_at is not null order by revoked_at, serial_hex`, [caId]);
  return rows.map((r) => ({ serialHex: r.serial_hex, revokedAt: new Date(r.revoked_at), reason: (r.revocation_reason ?? 'unspecified') as RevocationReason }));
}
