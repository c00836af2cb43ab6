// A certificate a CA has just issued, parsed once: the issuer checks what the CA returned, and the issue stage
// then checks what the issuer returned, the same PEM moments later (each parse with its public key export
// cost about 1 ms). Only the latest few are kept. (proto/shared/certificate-facts.ts reads every fact of a
// certificate from its DER, for inventory; these checks need only the parsed certificate and its key.)
import { X509Certificate } from 'node:crypto';

export interface ParsedCertificate {
  x509: X509Certificate;
  /** The certified public key (SubjectPublicKeyInfo, DER). */
  spkiDer: Buffer;
}

const MAX_KEPT = 256;
const kept = new Map<string, ParsedCertificate>();

/** The parsed certificate of one PEM block (throws as X509Certificate does on anything else). */
export function parsedCertificate(pem: string): ParsedCertificate {
  const key = pem.trim();
  let parsed = kept.get(key);
  if (!parsed) {
    const x509 = new X509Certificate(key);
    parsed = { x509, spkiDer: x509.publicKey.export({ type: 'spki', format: 'der' }) };
    kept.set(key, parsed);
    if (kept.size > MAX_KEPT) kept.delete(kept.keys().next().value!);
  }
  return parsed;
}
