// Private keys are found only to say which certificates have one: a key is reduced at once to the SHA-256
// of its public key (SubjectPublicKeyInfo DER), the same hash taken over a certificate's stored SPKI, and
// only that hash and the file's path are kept. Key bytes never reach an event, a log line or an error
// message: errors from parsing a key are replaced by constant text.
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';

/** How a PEM label's key is encoded; 'encrypted' keys are not opened (no password is configured for them). */
export type PemKeyEncoding = 'pkcs8' | 'pkcs1' | 'sec1' | 'encrypted';

export const PRIVATE_KEY_LABELS: ReadonlyMap<string, PemKeyEncoding> = new Map([
  ['PRIVATE KEY', 'pkcs8'],
  ['RSA PRIVATE KEY', 'pkcs1'],
  ['EC PRIVATE KEY', 'sec1'],
  ['ENCRYPTED PRIVATE KEY', 'encrypted'],
]);

export class MalformedPrivateKeyError extends Error {
  override readonly name = 'MalformedPrivateKeyError';
}

/** The public-key hash of an unencrypted private key in DER (PKCS#8, PKCS#1 RSA or SEC1 EC). */
export function publicKeySha256OfPrivateKey(der: Buffer, type: 'pkcs8' | 'pkcs1' | 'sec1'): string {
  let spki: Buffer;
  try {
    spki = createPublicKey(createPrivateKey({ key: der, format: 'der', type })).export({ type: 'spki', format: 'der' });
  } catch (cause) {
    // OpenSSL's message is dropped on purpose: nothing derived from key bytes goes into a report.
    throw new MalformedPrivateKeyError('not a parsable private key', { cause });
  }
  return sha256Hex(spki);
}

/**
 * Old OpenSSL "traditional" keys are encrypted in place, with headers inside the block
 * ("Proc-Type: 4,ENCRYPTED"), under the same label as plain ones.
 */
export function isLegacyEncryptedPemBody(body: string): boolean {
  return body.includes('Proc-Type:') && body.includes('ENCRYPTED');
}

/**
 * Where the keys of one scan were found, by public-key hash. The first file in walk order wins, so the
 * answer does not depend on anything but the tree.
 */
export class KeyLocations {
  readonly #paths = new Map<string, string>();

  add(publicKeySha256: string, path: string): void {
    if (!this.#paths.has(publicKeySha256)) this.#paths.set(publicKeySha256, path);
  }

  /**
   * The first file of the scan holding the private key with this public-key hash, or null. (A certificate
   * whose own file or keystore holds its key gets that path instead; see scanPaths.)
   */
  pathOf(publicKeySha256: string): string | null {
    return this.#paths.get(publicKeySha256) ?? null;
  }
}

export function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
