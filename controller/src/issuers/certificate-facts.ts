// A certificate a CA has just issued, parsed once: the issuer checks what the CA returned, and the issue stage
// then checks what the issuer returned, the same PEM moments later (each parse with its public key export
// cost about 1 ms). Only the latest few are kept.
import { X509Certificate } from 'node:crypto';

export interface CertificateFacts {
  x509: X509Certificate;
  /** The certified public key (SubjectPublicKeyInfo, DER). */
  spkiDer: Buffer;
}

const MAX_KEPT = 256;
const kept = new Map<string, CertificateFacts>();

/** The parsed certificate of one PEM block (throws as X509Certificate does on anything else). */
export function certificateFacts(pem: string): CertificateFacts {
  const key = pem.trim();
  let facts = kept.get(key);
  if (!facts) {
    const x509 = new X509Certificate(key);
    facts = { x509, spkiDer: x509.publicKey.export({ type: 'spki', format: 'der' }) };
    kept.set(key, facts);
    if (kept.size > MAX_KEPT) kept.delete(kept.keys().next().value!);
  }
  return facts;
}
