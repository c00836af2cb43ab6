// Java keystores: JKS (magic 0xFEEDFEED) and JCEKS (0xCECECECE). Their certificates are stored in the clear,
// as plain DER, in trusted-certificate entries and in the chains of private-key entries, so they are read
// without any password. The password only guards the file's integrity: a SHA-1 over the password, the
// phrase "Mighty Aphrodite" and the whole file. A store no configured password verifies is 'locked', but
// its certificates are still reported. Private keys are never decrypted: a private-key entry's first chain
// certificate is its key's certificate by construction.
//
// JCEKS secret-key entries are serialized Java objects with no length prefix; reading stops at the first one
// and the store is only 'detected', with the certificates found before it.
import { createHash } from 'node:crypto';
import type { KeystoreState } from './pkcs12.js';

export type JavaKeystoreKind = 'jks' | 'jceks';

export interface JavaKeystoreContents {
  state: KeystoreState;
  certificates: { der: Buffer; hasKeyEntry: boolean }[];
  reason?: string;
}

export class MalformedJavaKeystoreError extends Error {
  override readonly name = 'MalformedJavaKeystoreError';
}

const MAGIC: Record<number, JavaKeystoreKind> = { 0xfeedfeed: 'jks', 0xcececece: 'jceks' };
const ENTRY = { privateKey: 1, trustedCertificate: 2, secretKey: 3 };
const DIGEST_LENGTH = 20;
const INTEGRITY_PHRASE = Buffer.from('Mighty Aphrodite', 'utf8');

export function javaKeystoreKind(bytes: Buffer): JavaKeystoreKind | null {
  return bytes.length >= 4 ? MAGIC[bytes.readUInt32BE(0)] ?? null : null;
}

export function readJavaKeystore(bytes: Buffer, kind: JavaKeystoreKind, passwords: readonly string[]): JavaKeystoreContents {
  const reader = new Reader(bytes);
  reader.skip(4);
  const version = reader.u32();
  if (version !== 1 && version !== 2) throw new MalformedJavaKeystoreError(`unsupported version ${version}`);
  const entries = reader.u32();
  const certificates: JavaKeystoreContents['certificates'] = [];
  // Version 1 stores no certificate type before each certificate; version 2 names it ("X.509").
  const readCertificate = (hasKeyEntry: boolean) => {
    const type = version === 2 ? reader.utf() : 'X.509';
    const der = reader.bytes(reader.u32());
    if (type === 'X.509') certificates.push({ der, hasKeyEntry });
  };
  for (let i = 0; i < entries; i++) {
    const tag = reader.u32();
    reader.utf(); // alias
    reader.skip(8); // creation time
    if (tag === ENTRY.privateKey) {
      reader.skip(reader.u32()); // the protected key: never decrypted, never kept
      const chainLength = reader.u32();
      for (let j = 0; j < chainLength; j++) readCertificate(j === 0);
    } else if (tag === ENTRY.trustedCertificate) {
      readCertificate(false);
    } else if (tag === ENTRY.secretKey && kind === 'jceks') {
      return { state: 'detected', certificates, reason: 'secret-key entries cannot be read' };
    } else {
      throw new MalformedJavaKeystoreError(`unknown entry type ${tag}`);
    }
  }
  if (reader.remaining() !== DIGEST_LENGTH) throw new MalformedJavaKeystoreError('missing or misplaced integrity digest');
  const body = bytes.subarray(0, reader.offset);
  const digest = bytes.subarray(reader.offset);
  const verified = ['', ...passwords].some((password) => createHash('sha1')
    .update(Buffer.from(password, 'utf16le').swap16()).update(INTEGRITY_PHRASE).update(body).digest().equals(digest));
  return { state: verified ? 'opened' : 'locked', certificates };
}

/** Bounds-checked big-endian reads: a truncated or hostile file fails with a message, never reads past. */
class Reader {
  offset = 0;
  constructor(private readonly data: Buffer) {}

  remaining(): number {
    return this.data.length - this.offset;
  }

  skip(count: number): void {
    this.need(count);
    this.offset += count;
  }

  u32(): number {
    this.need(4);
    const value = this.data.readUInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  /** Java's DataOutput.writeUTF: a two-byte length, then (modified) UTF-8. */
  utf(): string {
    this.need(2);
    const length = this.data.readUInt16BE(this.offset);
    this.offset += 2;
    return this.bytes(length).toString('utf8');
  }

  bytes(count: number): Buffer {
    this.need(count);
    const slice = this.data.subarray(this.offset, this.offset + count);
    this.offset += count;
    return slice;
  }

  private need(count: number): void {
    if (count > this.remaining()) throw new MalformedJavaKeystoreError('truncated entry');
  }
}
