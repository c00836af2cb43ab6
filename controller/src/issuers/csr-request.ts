// Reading a CSR and holding it to the request: its signature must verify (the requester holds the key),
// its key must be one certflow knows, and it must ask for exactly the names the workflow asked for.
// Shared by every issuer, so a CA never signs names the template did not name.
import { createPublicKey } from 'node:crypto';
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

function keyTypeOf(csr: x509.Pkcs10CertificateRequest): KeyType {
  let key;
  try {
    key = createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: 'der', type: 'spki' });
  } catch (cause) {
    throw new InvalidCsrError('the CSR\'s public key cannot be read', { cause });
  }
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

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

/** Parses and verifies the CSR and checks it against the request's names; throws InvalidCsrError otherwise. */
export async function checkCsr(req: IssueRequest): Promise<CheckedCsr> {
  const dnsNames = uniqueLower(req.dnsNames ?? []);
  const badDns = dnsNames.find((n) => !DNS_NAME.test(n) || n.length > 253);
  if (badDns !== undefined) throw new InvalidCsrError(`"${badDns}" is not a DNS name`);
  const badIp = (req.ipAddresses ?? []).find((ip) => !isIP(ip));
  if (badIp !== undefined) throw new InvalidCsrError(`"${badIp}" is not an IP address`);
  const ipAddresses = [...new Set((req.ipAddresses ?? []).map(canonicalIp))];
  if (dnsNames.length + ipAddresses.length === 0) throw new InvalidCsrError('the request names no DNS name or IP address');

  if (typeof req.csrPem !== 'string' || !req.csrPem.includes('-----BEGIN CERTIFICATE REQUEST-----')) {
    throw new InvalidCsrError('the CSR is not a PEM "CERTIFICATE REQUEST" block');
  }
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(req.csrPem);
  } catch (cause) {
    throw new InvalidCsrError(`the CSR is not a valid PKCS#10 request: ${(cause as Error).message}`, { cause });
  }
  const keyType = keyTypeOf(csr);
  let verified = false;
  try {
    verified = await csr.verify();
  } catch (cause) {
    throw new InvalidCsrError(`the CSR's signature cannot be checked: ${(cause as Error).message}`, { cause });
  }
  if (!verified) throw new InvalidCsrError('the CSR\'s signature does not verify: it was not signed by the key it carries');

  const asked = requestedNames(csr);
  const csrDns = asked.dns;
  if (asked.commonName !== null) {
    const cn = asked.commonName.toLowerCase().replace(/\.$/, '');
    const cnIsIp = isIP(cn) !== 0;
    if (!(cnIsIp ? ipAddresses.includes(canonicalIp(cn)) : dnsNames.includes(cn))) {
      throw new InvalidCsrError(`the CSR's common name "${asked.commonName}" is not one of the requested names (${[...dnsNames, ...ipAddresses].join(', ')})`);
    }
    // A CSR may carry its only name in the CN (no SAN): it then counts as requested.
    if (!cnIsIp && !csrDns.includes(cn)) csrDns.push(cn);
    if (cnIsIp && !asked.ips.includes(canonicalIp(cn))) asked.ips.push(canonicalIp(cn));
  }
  if (!sameSet(csrDns, dnsNames) || !sameSet(asked.ips, ipAddresses)) {
    const expected = [...dnsNames, ...ipAddresses].join(', ');
    const got = [...csrDns, ...asked.ips].join(', ') || '(none)';
    throw new InvalidCsrError(`the CSR requests ${got} but the certificate must name exactly ${expected}`);
  }
  return { csr, keyType, dnsNames, ipAddresses, commonName: asked.commonName };
}
