// Parses each certificate once, with node:crypto, and no further until someone reads its facts. The
// agent's main path (the inventory) needs only the fingerprint and the public-key hash: the controller
// parses the DER it receives itself and trusts nothing else. The rest of certificateFacts (key details, a
// signature check for self-signed certificates, the fields node:crypto does not expose) measured half again
// the cost of the parse; it is computed on first read (`certflow-agent scan` reads it, the inventory does
// not), once per distinct certificate. Hosts keep the same certificate in many files (the trust store as
// single files, as a bundle, as a Java keystore); each distinct certificate is parsed once per scan.
import { createHash, X509Certificate } from 'node:crypto';
import { certificateFacts, MalformedCertificateError, type CertificateFacts } from '../../../proto/shared/certificate-facts.js';
import { certificateSubjectPublicKeyInfo, MalformedBerError } from './ber.js';
import { sha256Hex } from './private-keys.js';

export interface ParsedCertificate {
  /**
   * fingerprintSha256 is known at once; the other fields are computed on first read. Reading one throws
   * MalformedCertificateError for the rare certificate node:crypto parses but certificateFacts does not
   * (an unsupported key algorithm, an impossible date); the controller reports it as rejected.
   */
  facts: CertificateFacts;
  /** SHA-256 of the certificate's SubjectPublicKeyInfo, what private keys are matched by. */
  publicKeySha256: string;
}

// Enough for any real host's distinct certificates; beyond it the oldest are forgotten, bounding memory.
const DEFAULT_MEMO_ENTRIES = 20_000;

// In certificateFacts' order, so Object.keys and JSON come out as they would from certificateFacts itself.
const LAZY_FIELDS = [
  'subject', 'issuer', 'serialNumber', 'sans', 'notBefore', 'notAfter', 'keyAlgorithm', 'keySize', 'curve',
  'signatureAlgorithm', 'selfSigned', 'isCa',
] as const satisfies readonly (keyof CertificateFacts)[];

export class CertificateParser {
  readonly #memo = new Map<string, ParsedCertificate>();
  readonly #maxEntries: number;

  constructor(maxEntries = DEFAULT_MEMO_ENTRIES) {
    this.#maxEntries = maxEntries;
  }

  /** Throws MalformedCertificateError for anything but a DER certificate node:crypto can parse. */
  parse(der: Buffer): ParsedCertificate {
    const fingerprintSha256 = createHash('sha256').update(der).digest('hex');
    const known = this.#memo.get(fingerprintSha256);
    if (known !== undefined) return known;
    let spki: Buffer;
    try {
      // The structure first: it rejects garbage in microseconds, and trailing bytes node:crypto would allow.
      spki = certificateSubjectPublicKeyInfo(der);
      new X509Certificate(der);
    } catch (err) {
      if (err instanceof MalformedBerError) throw new MalformedCertificateError(err.message, { cause: err });
      throw new MalformedCertificateError('not a parsable X.509 certificate', { cause: err });
    }
    const parsed = Object.freeze({ facts: lazyFacts(der, fingerprintSha256), publicKeySha256: sha256Hex(spki) });
    if (this.#memo.size >= this.#maxEntries) this.#memo.delete(this.#memo.keys().next().value as string);
    this.#memo.set(fingerprintSha256, parsed);
    return parsed;
  }
}

interface LazyState {
  fingerprintSha256: string;
  der: Buffer;
  full?: CertificateFacts;
}

const FIELDS: ReadonlySet<PropertyKey> = new Set(['fingerprintSha256', ...LAZY_FIELDS]);

function field(state: LazyState, key: PropertyKey): unknown {
  if (key === 'fingerprintSha256') return state.fingerprintSha256;
  if (state.full === undefined) {
    state.full = certificateFacts(state.der);
    Object.freeze(state.full.sans);
  }
  return state.full[key as keyof CertificateFacts];
}

// A read-only view over the state: to reads, keys, spreading, JSON and deep equality it is the object
// certificateFacts returns. A Proxy rather than accessor properties: defining twelve accessors on each
// object measured ~100 µs a certificate in a real scan (V8 makes such objects slow); a Proxy costs ~0.1 µs.
const LAZY_VIEW: ProxyHandler<LazyState> = {
  get: (state, key) => (FIELDS.has(key) ? field(state, key) : undefined),
  has: (_state, key) => FIELDS.has(key),
  ownKeys: () => [...FIELDS] as (string | symbol)[],
  getOwnPropertyDescriptor: (state, key) => (FIELDS.has(key)
    ? { value: field(state, key), writable: false, enumerable: true, configurable: true }
    : undefined),
  getPrototypeOf: () => Object.prototype,
  set: () => false,
  defineProperty: () => false,
  deleteProperty: () => false,
};

/** CertificateFacts with the fingerprint known and the rest computed by certificateFacts on first read. */
function lazyFacts(der: Buffer, fingerprintSha256: string): CertificateFacts {
  return new Proxy<LazyState>({ fingerprintSha256, der }, LAZY_VIEW) as unknown as CertificateFacts;
}
