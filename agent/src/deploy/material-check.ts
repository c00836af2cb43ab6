// The first step of every deploy, before anything is written: is this a certificate we may put in place?
// Its key must be the one it certifies (a mismatched pair takes a server down on reload), it must cover
// every name its targets serve, it must be valid now, and the intermediates must link leaf → ... in order.
import { createPrivateKey, type KeyObject, type X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { keyPem, parseCertificates, type PemMaterial } from './pem-bundle.js';

export type MaterialProblem = 'unreadable' | 'key-mismatch' | 'names' | 'not-yet-valid' | 'expired' | 'chain' | 'missing-password';

export class MaterialRefusedError extends Error {
  override name = 'MaterialRefusedError';
  constructor(readonly problem: MaterialProblem, message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

export function isMaterialRefused(err: unknown): err is MaterialRefusedError {
  return err instanceof MaterialRefusedError;
}

export interface CheckedMaterial {
  leaf: X509Certificate;
  chain: X509Certificate[];
  /** "AB:CD:..." as X509Certificate.fingerprint256 gives it, the form endpoints are compared in. */
  fingerprint256: string;
  names: string[];
  notAfter: Date;
}

/** DNS and IP names of the subjectAltName extension, e.g. ["example.com", "10.0.0.1"]. */
export function subjectAltNames(certificate: X509Certificate): string[] {
  return (certificate.subjectAltName ?? '').split(', ').flatMap((entry) => {
    const match = /^(DNS|IP Address):(.+)$/.exec(entry.trim());
    return match ? [match[2]] : [];
  });
}

/** True when the certificate is good for `name`: wildcards by the usual rules, a wildcard expected name only by itself. */
export function coversName(certificate: X509Certificate, name: string): boolean {
  const wanted = name.toLowerCase();
  if (wanted.startsWith('*.')) return subjectAltNames(certificate).some((n) => n.toLowerCase() === wanted);
  if (isIP(wanted)) return certificate.checkIP(wanted) !== undefined;
  return certificate.checkHost(wanted, { subject: 'never' }) !== undefined;
}

function parsePrivateKey(material: PemMaterial): KeyObject {
  try {
    return createPrivateKey(keyPem(material) || material.keyPem);
  } catch (cause) {
    throw new MaterialRefusedError('unreadable', `the private key cannot be read (${(cause as Error).message})`, { cause });
  }
}

function parseLeafAndChain(material: PemMaterial): { leaf: X509Certificate; chain: X509Certificate[] } {
  let leaves: X509Certificate[];
  let chain: X509Certificate[];
  try {
    leaves = parseCertificates(material.certificatePem);
    chain = parseCertificates(material.chainPem);
  } catch (cause) {
    throw new MaterialRefusedError('unreadable', `a certificate cannot be read (${(cause as Error).message})`, { cause });
  }
  if (leaves.length !== 1) {
    throw new MaterialRefusedError('unreadable', `certificatePem must hold exactly one certificate, it holds ${leaves.length}`);
  }
  return { leaf: leaves[0], chain };
}

/** Throws MaterialRefusedError naming the first problem; otherwise the parsed facts. */
export function checkMaterial(material: PemMaterial, expectedNames: readonly string[], now: Date = new Date()): CheckedMaterial {
  const { leaf, chain } = parseLeafAndChain(material);
  const key = parsePrivateKey(material);
  if (!leaf.checkPrivateKey(key)) {
    throw new MaterialRefusedError('key-mismatch', `the private key does not match the certificate ${leaf.subject.replace(/\n/g, ', ')}`);
  }
  const uncovered = expectedNames.filter((name) => !coversName(leaf, name));
  if (uncovered.length > 0) {
    throw new MaterialRefusedError('names', `the certificate does not cover ${uncovered.join(', ')} (it names ${subjectAltNames(leaf).join(', ') || 'nothing'})`);
  }
  const validFrom = new Date(leaf.validFrom);
  const validTo = new Date(leaf.validTo);
  if (now < validFrom) throw new MaterialRefusedError('not-yet-valid', `the certificate is not valid before ${validFrom.toISOString()}`);
  if (now > validTo) throw new MaterialRefusedError('expired', `the certificate expired at ${validTo.toISOString()}`);
  let child = leaf;
  for (const [index, issuer] of chain.entries()) {
    if (!child.checkIssued(issuer) || !child.verify(issuer.publicKey)) {
      throw new MaterialRefusedError('chain', `chain certificate ${index + 1} (${issuer.subject.replace(/\n/g, ', ')}) did not issue the certificate before it`);
    }
    child = issuer;
  }
  return { leaf, chain, fingerprint256: leaf.fingerprint256, names: subjectAltNames(leaf), notAfter: validTo };
}
