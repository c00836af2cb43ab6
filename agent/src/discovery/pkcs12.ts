// PKCS#12 (.p12, .pfx) keystores: opened with an empty password, then each configured one. The structure is
// walked here rather than by node-forge so that every certificate comes out as the exact DER stored (forge
// re-encodes RSA certificates and cannot parse EC ones at all), and so that forge is only loaded for RC2.
//
// Private keys inside are decrypted only to compute their public-key hash, then dropped.
import { childrenOf, decodeOid, decodeSmallInteger, elementBytes, expectTag, MalformedBerError, octetStringBytes, readElement, TAG, type BerElement } from './ber.js';
import { passwordCandidates, pbeDecrypt, pkcs12MacMatches, UnsupportedAlgorithmError, WrongPasswordError, type PasswordCandidate } from './pbe.js';
import { MalformedPrivateKeyError, publicKeySha256OfPrivateKey } from './private-keys.js';

export type KeystoreState = 'opened' | 'locked' | 'detected';

export interface KeystoreContents {
  state: KeystoreState;
  certificates: Buffer[];
  /** Public-key hashes of the private keys that could be read. */
  keyHashes: string[];
  /** Why the keystore is only 'detected': what could not be read. */
  reason?: string;
}

export class MalformedPkcs12Error extends Error {
  override readonly name = 'MalformedPkcs12Error';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

const OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  envelopedData: '1.2.840.113549.1.7.3',
  encryptedData: '1.2.840.113549.1.7.6',
  keyBag: '1.2.840.113549.1.12.10.1.1',
  shroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  safeContentsBag: '1.2.840.113549.1.12.10.1.6',
  x509Certificate: '1.2.840.113549.1.9.22.1',
};

/** True when the bytes start like a PFX: SEQUENCE { INTEGER 3, ContentInfo … }. */
export function looksLikePkcs12(bytes: Buffer): boolean {
  try {
    const pfx = readElement(bytes, 0);
    const version = readElement(bytes, pfx.contentStart, pfx.contentEnd);
    // Tags first: a certificate (SEQUENCE first) is told apart without an exception.
    return pfx.tag === TAG.sequence && version.tag === TAG.integer && decodeSmallInteger(bytes, version) === 3;
  } catch {
    return false;
  }
}

export async function openPkcs12(bytes: Buffer, passwords: readonly string[]): Promise<KeystoreContents> {
  let pfx: Pfx;
  try {
    pfx = readPfx(bytes);
  } catch (err) {
    throw asMalformed(err);
  }
  if (pfx.authSafe === null) return { state: 'detected', certificates: [], keyHashes: [], reason: 'public-key integrity mode' };
  const candidates = passwordCandidates(passwords);
  try {
    for (const password of candidates) {
      if (pfx.mac !== null && !pkcs12MacMatches(bytes, pfx.mac, pfx.authSafe, password)) continue;
      // Without a MAC, only decrypting everything proves a password: `-nomac` files keep certificates in
      // the clear, so any password would seem to open them while their key stayed sealed.
      const reading: Reading = { password, unreadableKeyMeansWrongPassword: pfx.mac === null, certificates: [], keyHashes: [] };
      try {
        await readSafes(pfx.authSafe, reading);
        return { state: 'opened', certificates: reading.certificates, keyHashes: reading.keyHashes };
      } catch (err) {
        if (pfx.mac === null && (err instanceof WrongPasswordError || err instanceof MalformedBerError)) continue;
        throw err;
      }
    }
    // Locked: certificate bags stored without encryption (`-nomac`, `-certpbe NONE`) can still be read.
    const reading: Reading = { password: null, unreadableKeyMeansWrongPassword: false, certificates: [], keyHashes: [] };
    await readSafes(pfx.authSafe, reading);
    return { state: 'locked', certificates: reading.certificates, keyHashes: reading.keyHashes };
  } catch (err) {
    if (err instanceof UnsupportedAlgorithmError) {
      return { state: 'detected', certificates: [], keyHashes: [], reason: `unsupported ${err.message}` };
    }
    throw asMalformed(err);
  }
}

/** One attempt at reading the safes with one password (or none: then encrypted parts are passed over). */
interface Reading {
  password: PasswordCandidate | null;
  unreadableKeyMeansWrongPassword: boolean;
  certificates: Buffer[];
  keyHashes: string[];
}

interface Pfx {
  /** The bytes the MAC covers: an AuthenticatedSafe (SEQUENCE OF ContentInfo); null in public-key mode. */
  authSafe: Buffer | null;
  mac: BerElement | null;
}

function readPfx(bytes: Buffer): Pfx {
  const pfx = expectTag(readElement(bytes, 0), TAG.sequence, 'PFX');
  const [version, authSafe, macData] = childrenOf(bytes, pfx);
  if (decodeSmallInteger(bytes, version) !== 3) throw new MalformedPkcs12Error('unsupported PFX version');
  const { type, content } = readContentInfo(bytes, authSafe);
  if (type === OID.signedData) return { authSafe: null, mac: null };
  if (type !== OID.data) throw new MalformedPkcs12Error(`unexpected authSafe content type ${type}`);
  return { authSafe: octetStringBytes(bytes, expectTag(content, TAG.octetString, 'authSafe data')), mac: macData ?? null };
}

function readContentInfo(bytes: Buffer, element: BerElement | undefined): { type: string; content: BerElement | undefined } {
  const [typeElement, explicit] = childrenOf(bytes, expectTag(element, TAG.sequence, 'ContentInfo'));
  const type = decodeOid(bytes, expectTag(typeElement, TAG.oid, 'content type'));
  return { type, content: explicit === undefined ? undefined : childrenOf(bytes, expectTag(explicit, TAG.context0, 'content'))[0] };
}

async function readSafes(authSafe: Buffer, reading: Reading): Promise<void> {
  const { password } = reading;
  for (const contentInfo of childrenOf(authSafe, expectTag(readElement(authSafe, 0), TAG.sequence, 'AuthenticatedSafe'))) {
    const { type, content } = readContentInfo(authSafe, contentInfo);
    if (type === OID.data) {
      await readSafeContents(octetStringBytes(authSafe, expectTag(content, TAG.octetString, 'SafeContents')), reading);
    } else if (type === OID.encryptedData) {
      if (password === null) continue;
      const [, encryptedContentInfo] = childrenOf(authSafe, expectTag(content, TAG.sequence, 'EncryptedData'));
      const [, algorithm, encrypted] = childrenOf(authSafe, expectTag(encryptedContentInfo, TAG.sequence, 'EncryptedContentInfo'));
      if (encrypted === undefined) continue;
      // [0] IMPLICIT OCTET STRING: primitive 0x80, or chunked 0xa0 in BER.
      const ciphertext = octetStringBytes(authSafe, encrypted);
      await readSafeContents(await pbeDecrypt(authSafe, algorithm, ciphertext, password), reading);
    } else if (type === OID.envelopedData) {
      throw new UnsupportedAlgorithmError('public-key privacy mode');
    }
  }
}

async function readSafeContents(safeContents: Buffer, reading: Reading): Promise<void> {
  const { password } = reading;
  for (const safeBag of childrenOf(safeContents, expectTag(readElement(safeContents, 0), TAG.sequence, 'SafeContents'))) {
    const [bagId, bagValue] = childrenOf(safeContents, expectTag(safeBag, TAG.sequence, 'SafeBag'));
    const type = decodeOid(safeContents, expectTag(bagId, TAG.oid, 'bag type'));
    const value = childrenOf(safeContents, expectTag(bagValue, TAG.context0, 'bag value'))[0];
    if (type === OID.certBag) {
      const [certId, certValue] = childrenOf(safeContents, expectTag(value, TAG.sequence, 'CertBag'));
      if (decodeOid(safeContents, expectTag(certId, TAG.oid, 'certificate type')) !== OID.x509Certificate) continue;
      const inner = childrenOf(safeContents, expectTag(certValue, TAG.context0, 'certificate value'))[0];
      reading.certificates.push(Buffer.from(octetStringBytes(safeContents, expectTag(inner, TAG.octetString, 'certificate'))));
    } else if (type === OID.keyBag) {
      addKeyHash(elementBytes(safeContents, expectTag(value, TAG.sequence, 'PrivateKeyInfo')), reading, false);
    } else if (type === OID.shroudedKeyBag && password !== null) {
      const [algorithm, encrypted] = childrenOf(safeContents, expectTag(value, TAG.sequence, 'EncryptedPrivateKeyInfo'));
      let pkcs8: Buffer;
      try {
        pkcs8 = await pbeDecrypt(safeContents, algorithm, octetStringBytes(safeContents, encrypted), password);
      } catch (err) {
        // With a MAC, a key under its own, different password stays unmatched; the keystore did open.
        if (err instanceof WrongPasswordError && !reading.unreadableKeyMeansWrongPassword) continue;
        throw err;
      }
      try {
        addKeyHash(pkcs8, reading, reading.unreadableKeyMeansWrongPassword);
      } finally {
        // The decrypted key is ours alone: wipe it rather than leave it to the garbage collector.
        pkcs8.fill(0);
      }
    } else if (type === OID.safeContentsBag) {
      await readSafeContents(elementBytes(safeContents, value), reading);
    }
  }
}

function addKeyHash(pkcs8: Buffer, reading: Reading, decryptedWithCandidate: boolean): void {
  try {
    reading.keyHashes.push(publicKeySha256OfPrivateKey(pkcs8, 'pkcs8'));
  } catch (err) {
    if (!(err instanceof MalformedPrivateKeyError)) throw err;
    // Garbage that happened to pass the padding check (1 in 256) means a wrong password...
    if (decryptedWithCandidate) throw new WrongPasswordError('decrypted key does not parse', { cause: err });
    // ...otherwise a key type OpenSSL cannot load leaves its certificate without a keyPath; the rest counts.
  }
}

function asMalformed(err: unknown): Error {
  if (err instanceof MalformedPkcs12Error) return err;
  if (err instanceof MalformedBerError) return new MalformedPkcs12Error(err.message, { cause: err });
  return err instanceof Error ? err : new Error(String(err));
}
