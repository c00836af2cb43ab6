// Reading a CSR and holding it to the request: its signature must verify (the requester holds the key),
// its key must be one certflow knows, and it must ask for exactly the names the workflow asked for.
// Shared by every issuer, so a CA never signs names the template did not name.
// A CSR is checked on every stage call that issues from it (an ACME CA's prepare, complete and their
// retries), and reading one costs milliseconds (ASN.1 decoding, key import, signature): what the CSR
// itself says (its key type, signature, names) is kept for the last CSRs read; the request's names are
// held against it on every call.
import { constants, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { x509 } from '../../../proto/shared/x509.js';
import type { KeyType } from '../db/entities/certificate-authority.js';
import { IssuerPolicyError, type IssueRequest } from './issuer.js';

export class InvalidCsrError extends IssuerPolicyError {
  override name = 'InvalidCsrError';
}

export interface CheckedCsr {
  csr: x509.Pkcs10CertificateRequest;
  keyType: KeyType;
  /** The request's DNS names, lower-cased, in the request's order, without duplicates. */
  dnsNames: string[];
  /** The request's IP addresses in canonical text form. */
  ipAddresses: string[];
  /** The CSR's common name, if it has one (always one of the names). */
  commonName: string | null;
}

const DNS_NAME = /^(\*\.)?(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*$/;
const SAN_OID = '2.5.29.17';
const COMMON_NAME_OID = '2.5.4.3';

/** IPv6 in its compressed lower-case form, so `::1` and `0:0:0:0:0:0:0:1` compare equal. */
export function canonicalIp(ip: string): string {
  return isIP(ip) === 6 ? new URL(`http://[${ip}]/`).hostname.slice(1, -1) : ip;
}

function uniqueLower(names: string[]): string[] {
  return [...new Set(names.map((n) => n.toLowerCase().replace(/\.$/, '')))];
}

function publicKeyOf(csr: x509.Pkcs10CertificateRequest): KeyObject {
  try {
    return createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: 'der', type: 'spki' });
  } catch (cause) {
    throw new InvalidCsrError('the CSR\'s public key cannot be read', { cause });
  }
}

function keyTypeOf(key: KeyObject): KeyType {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'ec') {
    if (details.namedCurve === 'prime256v1') return 'ecdsa-p256';
    if (details.namedCurve === 'secp384r1') return 'ecdsa-p384';
    throw new InvalidCsrError(`the CSR's EC key is on curve ${details.namedCurve ?? '(unknown)'}; P-256 and P-384 are supported`);
  }
  if (key.asymmetricKeyType === 'rsa') {
    const bits = details.modulusLength;
    if (bits === 2048 || bits === 3072 || bits === 4096) return `rsa-${bits}`;
    throw new InvalidCsrError(`the CSR's RSA key has ${bits ?? '?'} bits; 2048, 3072 and 4096 are supported`);
  }
  throw new InvalidCsrError(`the CSR's key type ${key.asymmetricKeyType ?? '(unknown)'} is not supported (ECDSA P-256/P-384 or RSA)`);
}

function requestedNames(csr: x509.Pkcs10CertificateRequest): { dns: string[]; ips: string[]; commonName: string | null } {
  const dns: string[] = [];
  const ips: string[] = [];
  const ext = csr.getExtension(SAN_OID);
  if (ext) {
    const san = ext instanceof x509.SubjectAlternativeNameExtension ? ext : new x509.SubjectAlternativeNameExtension(ext.rawData);
    for (const item of san.names.items) {
      if (item.type === 'dns') dns.push(item.value);
      else if (item.type === 'ip') ips.push(canonicalIp(item.value));
      else throw new InvalidCsrError(`the CSR asks for a ${item.type} name ("${item.value}"); only DNS names and IP addresses are issued`);
    }
  }
  const cns = csr.subjectName.getField(COMMON_NAME_OID);
  if (cns.length > 1) throw new InvalidCsrError('the CSR has more than one common name');
  return { dns: uniqueLower(dns), ips: [...new Set(ips)], commonName: cns[0] ?? null };
}

/** The DER of the CSR's CertificationRequestInfo (what its signature covers): the outer SEQUENCE's first element. */
function signedPartOf(der: Buffer): Buffer {
  // A DER header: the tag, then a short length (< 0x80) or 0x80 + the number of length bytes that follow.
  const header = (at: number): { content: number; length: number } => {
    const first = der[at + 1]!;
    if (first < 0x80) return { content: at + 2, length: first };
    const bytes = first & 0x7f;
    if (bytes === 0 || bytes > 4 || at + 2 + bytes > der.length) throw new Error('bad DER length');
    return { content: at + 2 + bytes, length: der.readUIntBE(at + 2, bytes) };
  };
  if (der[0] !== 0x30) throw new Error('not a DER SEQUENCE');
  const inner = header(0).content;
  const info = header(inner);
  if (der[inner] !== 0x30 || info.content + info.length > der.length) throw new Error('no CertificationRequestInfo');
  return der.subarray(inner, info.content + info.length);
}

const NODE_HASHES: Record<string, string> = { 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };

/**
 * Whether the CSR is signed by its own key. ECDSA and RSA PKCS#1 v1.5 signatures (what agents and common
 * tools make) are checked with the key already imported; anything else by the x509 library.
 */
async function signatureVerifies(csr: x509.Pkcs10CertificateRequest, key: KeyObject): Promise<boolean> {
  const algorithm = csr.signatureAlgorithm as { name?: string; hash?: string | { name?: string } };
  const hash = NODE_HASHES[(typeof algorithm.hash === 'string' ? algorithm.hash : algorithm.hash?.name) ?? ''];
  const tbs = signedPartOf(Buffer.from(csr.rawData));
  // X.509 carries ECDSA signatures DER-encoded, which is node's default.
  const signature = Buffer.from(csr.signature);
  if (hash && algorithm.name === 'ECDSA' && key.asymmetricKeyType === 'ec') return verify(hash, tbs, key, signature);
  if (hash && algorithm.name === 'RSASSA-PKCS1-v1_5' && key.asymmetricKeyType === 'rsa') {
    return verify(hash, tbs, { key, padding: constants.RSA_PKCS1_PADDING }, signature);
  }
  return csr.verify();
}

/** What a CSR says by itself, read once and verified. */
interface ReadCsr {
  csr: x509.Pkcs10CertificateRequest;
  keyType: KeyType;
  names: { dns: string[]; ips: string[]; commonName: string | null };
}

// The CSRs read last, by PEM (insertion order: the oldest is dropped first). Only CSRs that passed.
const MAX_REMEMBERED_CSRS = 512;
const readCsrs = new Map<string, ReadCsr>();

async function readCsr(pem: string): Promise<ReadCsr> {
  const remembered = readCsrs.get(pem);
  if (remembered) return remembered;
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(pem);
  } catch (cause) {
    throw new InvalidCsrError(`the CSR is not a valid PKCS#10 request: ${(cause as Error).message}`, { cause });
  }
  const key = publicKeyOf(csr);
  const keyType = keyTypeOf(key);
  let verified = false;
  try {
    verified = await signatureVerifies(csr, key);
  } catch (cause) {
    throw new InvalidCsrError(`the CSR's signature cannot be checked: ${(cause as Error).message}`, { cause });
  }
  if (!verified) throw new InvalidCsrError('the CSR\'s signature does not verify: it was not signed by the key it carries');
  const read: ReadCsr = { csr, keyType, names: requestedNames(csr) };
  readCsrs.set(pem, read);
  if (readCsrs.size > MAX_REMEMBERED_CSRS) readCsrs.delete(readCsrs.keys().next().value!);
  return read;
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

/** The request's names, lower-cased and canonical, without duplicates; InvalidCsrError when one is malformed or there are none. */
export function checkRequestedNames(req: Pick<IssueRequest, 'dnsNames' | 'ipAddresses'>): { dnsNames: string[]; ipAddresses: string[] } {
  const dnsNames = uniqueLower(req.dnsNames ?? []);
  const badDns = dnsNames.find((n) => !DNS_NAME.test(n) || n.length > 253);
  if (badDns !== undefined) throw new InvalidCsrError(`"${badDns}" is not a DNS name`);
  const badIp = (req.ipAddresses ?? []).find((ip) => !isIP(ip));
  if (badIp !== undefined) throw new InvalidCsrError(`"${badIp}" is not an IP address`);
  const ipAddresses = [...new Set((req.ipAddresses ?? []).map(canonicalIp))];
  if (dnsNames.length + ipAddresses.length === 0) throw new InvalidCsrError('the request names no DNS name or IP address');
  return { dnsNames, ipAddresses };
}

/** Parses and verifies the CSR and checks it against the request's names; throws InvalidCsrError otherwise. */
export async function checkCsr(req: IssueRequest): Promise<CheckedCsr> {
  const { dnsNames, ipAddresses } = checkRequestedNames(req);

  if (typeof req.csrPem !== 'string' || !req.csrPem.includes('-----BEGIN CERTIFICATE REQUEST-----')) {
    throw new InvalidCsrError('the CSR is not a PEM "CERTIFICATE REQUEST" block');
  }
  const { csr, keyType, names: asked } = await readCsr(req.csrPem);
  // Copies: the remembered names are shared by every check of this CSR.
  const csrDns = [...asked.dns];
  const csrIps = [...asked.ips];
  if (asked.commonName !== null) {
    const cn = asked.commonName.toLowerCase().replace(/\.$/, '');
    const cnIsIp = isIP(cn) !== 0;
    if (!(cnIsIp ? ipAddresses.includes(canonicalIp(cn)) : dnsNames.includes(cn))) {
      throw new InvalidCsrError(`the CSR's common name "${asked.commonName}" is not one of the requested names (${[...dnsNames, ...ipAddresses].join(', ')})`);
    }
    // A CSR may carry its only name in the CN (no SAN): it then counts as requested.
    if (!cnIsIp && !csrDns.includes(cn)) csrDns.push(cn);
    if (cnIsIp && !csrIps.includes(canonicalIp(cn))) csrIps.push(canonicalIp(cn));
  }
  if (!sameSet(csrDns, dnsNames) || !sameSet(csrIps, ipAddresses)) {
    const expected = [...dnsNames, ...ipAddresses].join(', ');
    const got = [...csrDns, ...csrIps].join(', ') || '(none)';
    throw new InvalidCsrError(`the CSR requests ${got} but the certificate must name exactly ${expected}`);
  }
  return { csr, keyType, dnsNames, ipAddresses, commonName: asked.commonName };
}
