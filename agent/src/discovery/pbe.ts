// Password-based encryption and integrity as PKCS#12 files use them (RFC 7292, RFC 8018): the PKCS#12 key
// derivation with 3DES or RC2 (older OpenSSL, Java 8, Windows), PBES2 with PBKDF2 and AES (OpenSSL 3, newer
// Java), and the PKCS#12 MAC. node:crypto does all but RC2, which OpenSSL 3 only has in its legacy provider;
// that one cipher comes from node-forge, loaded the first time an RC2 file is met so the agent does not
// carry forge in memory otherwise.
import { createDecipheriv, createHash, createHmac, pbkdf2Sync, timingSafeEqual } from 'node:crypto';
import { childrenOf, decodeOid, decodeSmallInteger, expectTag, octetStringBytes, TAG, type BerElement } from './ber.js';

/** A password in both encodings PKCS#12 uses: BMPString for its own KDF and MAC, UTF-8 for PBES2. */
export interface PasswordCandidate {
  bmp: Buffer;
  utf8: Buffer;
}

export class UnsupportedAlgorithmError extends Error {
  override readonly name = 'UnsupportedAlgorithmError';
}

export class WrongPasswordError extends Error {
  override readonly name = 'WrongPasswordError';
}

// A hostile file could ask for billions of iterations; real ones use 1 to a few hundred thousand.
const MAX_ITERATIONS = 1_000_000;

const HASHES: Record<string, { name: string; block: number }> = {
  '1.3.14.3.2.26': { name: 'sha1', block: 64 },
  '2.16.840.1.101.3.4.2.4': { name: 'sha224', block: 64 },
  '2.16.840.1.101.3.4.2.1': { name: 'sha256', block: 64 },
  '2.16.840.1.101.3.4.2.2': { name: 'sha384', block: 128 },
  '2.16.840.1.101.3.4.2.3': { name: 'sha512', block: 128 },
};
const PBKDF2_PRFS: Record<string, string> = {
  '1.2.840.113549.2.7': 'sha1', '1.2.840.113549.2.8': 'sha224', '1.2.840.113549.2.9': 'sha256',
  '1.2.840.113549.2.10': 'sha384', '1.2.840.113549.2.11': 'sha512',
};
const PBES2_CIPHERS: Record<string, { name: string; keyLength: number }> = {
  '2.16.840.1.101.3.4.1.2': { name: 'aes-128-cbc', keyLength: 16 },
  '2.16.840.1.101.3.4.1.22': { name: 'aes-192-cbc', keyLength: 24 },
  '2.16.840.1.101.3.4.1.42': { name: 'aes-256-cbc', keyLength: 32 },
  '1.2.840.113549.3.7': { name: 'des-ede3-cbc', keyLength: 24 },
};
const PKCS12_PBE: Record<string, { cipher: string; keyLength: number; rc2Bits?: number }> = {
  '1.2.840.113549.1.12.1.3': { cipher: 'des-ede3-cbc', keyLength: 24 },
  '1.2.840.113549.1.12.1.4': { cipher: 'des-ede-cbc', keyLength: 16 },
  '1.2.840.113549.1.12.1.5': { cipher: 'rc2', keyLength: 16, rc2Bits: 128 },
  '1.2.840.113549.1.12.1.6': { cipher: 'rc2', keyLength: 5, rc2Bits: 40 },
};
const PBES2_OID = '1.2.840.113549.1.5.13';
const PBKDF2_OID = '1.2.840.113549.1.5.12';
const SHA1 = HASHES['1.3.14.3.2.26'];

export function passwordCandidates(passwords: readonly string[]): PasswordCandidate[] {
  const candidates: PasswordCandidate[] = [];
  for (const password of new Set(['', ...passwords])) {
    const bmp = Buffer.from(`${password}\0`, 'utf16le').swap16();
    candidates.push({ bmp, utf8: Buffer.from(password, 'utf8') });
    // An empty password is written either as a lone terminator or as no bytes at all; OpenSSL tries both.
    if (password === '') candidates.push({ bmp: Buffer.alloc(0), utf8: Buffer.alloc(0) });
  }
  return candidates;
}

/** RFC 7292 appendix B.2: the PKCS#12 key derivation (id 1 key, 2 IV, 3 MAC key). */
export function pkcs12Kdf(hash: { name: string; block: number }, password: Buffer, salt: Buffer, id: number, iterations: number, length: number): Buffer {
  const v = hash.block;
  const repeatTo = (source: Buffer, size: number) => {
    const out = Buffer.alloc(size);
    for (let i = 0; i < size; i++) out[i] = source[i % source.length];
    return out;
  };
  const stretch = (source: Buffer) => (source.length === 0 ? source : repeatTo(source, v * Math.ceil(source.length / v)));
  const diversifier = Buffer.alloc(v, id);
  const input = Buffer.concat([stretch(salt), stretch(password)]);
  const blocks: Buffer[] = [];
  for (let produced = 0; ;) {
    let a = createHash(hash.name).update(diversifier).update(input).digest();
    for (let round = 1; round < iterations; round++) a = createHash(hash.name).update(a).digest();
    blocks.push(a);
    produced += a.length;
    if (produced >= length) break;
    const b = repeatTo(a, v);
    for (let j = 0; j < input.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = input[j + k] + b[k] + carry;
        input[j + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return Buffer.concat(blocks).subarray(0, length);
}

/** Checks a PFX's MacData over the authenticated-safe bytes; true when this password is the file's. */
export function pkcs12MacMatches(bytes: Buffer, macData: BerElement, content: Buffer, password: PasswordCandidate): boolean {
  const [digestInfo, saltElement, iterationsElement] = childrenOf(bytes, expectTag(macData, TAG.sequence, 'MacData'));
  const [algorithm, digestElement] = childrenOf(bytes, expectTag(digestInfo, TAG.sequence, 'DigestInfo'));
  const oid = decodeOid(bytes, expectTag(childrenOf(bytes, expectTag(algorithm, TAG.sequence, 'MAC algorithm'))[0], TAG.oid, 'MAC algorithm'));
  const hash = HASHES[oid];
  if (hash === undefined) throw new UnsupportedAlgorithmError(`MAC algorithm ${oid}`);
  const expected = octetStringBytes(bytes, expectTag(digestElement, TAG.octetString, 'MAC digest'));
  const salt = octetStringBytes(bytes, expectTag(saltElement, TAG.octetString, 'MAC salt'));
  const iterations = iterationsElement === undefined ? 1 : checkedIterations(decodeSmallInteger(bytes, iterationsElement));
  const key = pkcs12Kdf(hash, password.bmp, salt, 3, iterations, createHash(hash.name).digest().length);
  const actual = createHmac(hash.name, key).update(content).digest();
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/**
 * Decrypts password-based-encrypted content given its AlgorithmIdentifier. Throws WrongPasswordError when
 * the padding does not check out, the only sign of a wrong password where there is no MAC.
 */
export async function pbeDecrypt(bytes: Buffer, algorithm: BerElement, encrypted: Buffer, password: PasswordCandidate): Promise<Buffer> {
  const [oidElement, params] = childrenOf(bytes, expectTag(algorithm, TAG.sequence, 'encryption algorithm'));
  const oid = decodeOid(bytes, expectTag(oidElement, TAG.oid, 'encryption algorithm'));
  if (oid === PBES2_OID) return pbes2Decrypt(bytes, expectTag(params, TAG.sequence, 'PBES2 parameters'), encrypted, password);
  const scheme = PKCS12_PBE[oid];
  if (scheme === undefined) throw new UnsupportedAlgorithmError(`encryption algorithm ${oid}`);
  const [saltElement, iterationsElement] = childrenOf(bytes, expectTag(params, TAG.sequence, 'PBE parameters'));
  const salt = octetStringBytes(bytes, expectTag(saltElement, TAG.octetString, 'PBE salt'));
  const iterations = checkedIterations(decodeSmallInteger(bytes, iterationsElement));
  const key = pkcs12Kdf(SHA1, password.bmp, salt, 1, iterations, scheme.keyLength);
  const iv = pkcs12Kdf(SHA1, password.bmp, salt, 2, iterations, 8);
  if (scheme.rc2Bits !== undefined) return rc2Decrypt(key, iv, encrypted, scheme.rc2Bits);
  return decipher(scheme.cipher, key, iv, encrypted);
}

function pbes2Decrypt(bytes: Buffer, params: BerElement, encrypted: Buffer, password: PasswordCandidate): Buffer {
  const [kdf, scheme] = childrenOf(bytes, params);
  const [kdfOid, kdfParams] = childrenOf(bytes, expectTag(kdf, TAG.sequence, 'key derivation function'));
  if (decodeOid(bytes, expectTag(kdfOid, TAG.oid, 'key derivation function')) !== PBKDF2_OID) {
    throw new UnsupportedAlgorithmError('PBES2 key derivation other than PBKDF2');
  }
  const [saltElement, iterationsElement, ...rest] = childrenOf(bytes, expectTag(kdfParams, TAG.sequence, 'PBKDF2 parameters'));
  const prfElement = rest.find((element) => element.tag === TAG.sequence);
  const prfOid = prfElement === undefined ? '1.2.840.113549.2.7' : decodeOid(bytes, expectTag(childrenOf(bytes, prfElement)[0], TAG.oid, 'PRF'));
  const prf = PBKDF2_PRFS[prfOid];
  if (prf === undefined) throw new UnsupportedAlgorithmError(`PBKDF2 PRF ${prfOid}`);
  const [cipherOid, ivElement] = childrenOf(bytes, expectTag(scheme, TAG.sequence, 'encryption scheme'));
  const cipherName = decodeOid(bytes, expectTag(cipherOid, TAG.oid, 'encryption scheme'));
  const cipher = PBES2_CIPHERS[cipherName];
  if (cipher === undefined) throw new UnsupportedAlgorithmError(`PBES2 cipher ${cipherName}`);
  const salt = octetStringBytes(bytes, expectTag(saltElement, TAG.octetString, 'PBKDF2 salt'));
  const iterations = checkedIterations(decodeSmallInteger(bytes, iterationsElement));
  const key = pbkdf2Sync(password.utf8, salt, iterations, cipher.keyLength, prf);
  return decipher(cipher.name, key, octetStringBytes(bytes, expectTag(ivElement, TAG.octetString, 'IV')), encrypted);
}

function decipher(name: string, key: Buffer, iv: Buffer, encrypted: Buffer): Buffer {
  try {
    const cipher = createDecipheriv(name, key, iv);
    return Buffer.concat([cipher.update(encrypted), cipher.final()]);
  } catch (cause) {
    throw new WrongPasswordError('decryption failed', { cause });
  }
}

async function rc2Decrypt(key: Buffer, iv: Buffer, encrypted: Buffer, bits: number): Promise<Buffer> {
  const { default: forge } = await import('node-forge');
  const cipher = forge.rc2.createDecryptionCipher(key.toString('binary'), bits);
  cipher.start(iv.toString('binary'));
  cipher.update(forge.util.createBuffer(encrypted.toString('binary')));
  if (!cipher.finish()) throw new WrongPasswordError('decryption failed');
  return Buffer.from(cipher.output.getBytes(), 'binary');
}

function checkedIterations(iterations: number): number {
  if (iterations < 1 || iterations > MAX_ITERATIONS) throw new UnsupportedAlgorithmError(`iteration count ${iterations}`);
  return iterations;
}
