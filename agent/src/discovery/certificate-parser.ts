// Parses each distinct certificate once per scan. Hosts keep the same certificates in many files (the trust
// store as single files, as a bundle, as a Java keystore; a chain next to every leaf), and a full parse
// (certificateFacts: node:crypto's parser, plus a signature check for self-signed ones) costs far more than
// hashing the DER. Facts are frozen because one object is shared by every occurrence.
import { createHash } from 'node:crypto';
import { certificateFacts, type CertificateFacts } from '../../../proto/shared/certificate-facts.js';
import { publicKeySha256OfCertificate } from './private-keys.js';

export interface ParsedCertificate {
  facts: CertificateFacts;
  /** SHA-256 of the certificate's SubjectPublicKeyInfo, what private keys are matched by. */
  publicKeySha256: string;
}

// Enough for any real host's distinct certificates; beyond it the oldest are forgotten, bounding memory.
const DEFAULT_MEMO_ENTRIES = 20_000;

export class CertificateParser {
  readonly #memo = new Map<string, ParsedCertificate>();
  readonly #maxEntries: number;

  constructor(maxEntries = DEFAULT_MEMO_ENTRIES) {
    this.#maxEntries = maxEntries;
  }

  /** Throws what certificateFacts throws (MalformedCertificateError) for anything but a certificate. */
  parse(der: Buffer): ParsedCertificate {
    const fingerprint = createHash('sha256').update(der).digest('hex');
    const known = this.#memo.get(fingerprint);
    if (known !== undefined) return known;
    const facts = certificateFacts(der);
    Object.freeze(facts.sans);
    const parsed = Object.freeze({ facts: Object.freeze(facts), publicKeySha256: publicKeySha256OfCertificate(der) });
    if (this.#memo.size >= this.#maxEntries) this.#memo.delete(this.#memo.keys().next().value as string);
    this.#memo.set(fingerprint, parsed);
    return parsed;
  }
}
