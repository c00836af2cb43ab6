// PEM text: finds the blocks in one file (bundles, CRLF, comments between blocks) and decodes their base64.
// What each label means (certificate, PKCS#7, private key) is decided by file-formats.ts; this module only
// slices blocks by position, so no message it produces ever quotes file content.

export interface PemBlock {
  label: string;
  /** The text between the BEGIN and END lines; empty when the block has no END line. */
  body: string;
  /** False when the file ends before the block's END line. */
  terminated: boolean;
}

// OpenSSL's TRUSTED CERTIFICATE appends trust settings after the certificate; the others are old spellings.
export const CERTIFICATE_LABELS: ReadonlySet<string> = new Set(['CERTIFICATE', 'TRUSTED CERTIFICATE', 'X509 CERTIFICATE']);
// `openssl crl2pkcs7` writes PKCS7; Windows and some CAs the longer form.
export const PKCS7_LABELS: ReadonlySet<string> = new Set(['PKCS7', 'PKCS #7 SIGNED DATA', 'CERTIFICATE CHAIN']);

const BEGIN_LINE = /-----BEGIN ([A-Z0-9 #]+)-----/g;
const BEGIN_MARKER = Buffer.from('-----BEGIN ', 'latin1');

export class MalformedPemBlockError extends Error {
  override readonly name = 'MalformedPemBlockError';
}

/** Cheap test on the raw bytes, so binary files are never turned into a string just to find nothing. */
export function mayContainPem(bytes: Buffer): boolean {
  return bytes.indexOf(BEGIN_MARKER) !== -1;
}

export function pemBlocks(bytes: Buffer): PemBlock[] {
  // latin1 maps each byte to one character, so offsets match the file and binary files cannot fail to decode.
  const text = bytes.toString('latin1');
  const blocks: PemBlock[] = [];
  let searchFrom = 0;
  for (;;) {
    BEGIN_LINE.lastIndex = searchFrom;
    const begin = BEGIN_LINE.exec(text);
    if (begin === null) break;
    const label = begin[1];
    const bodyStart = begin.index + begin[0].length;
    const endMarker = `-----END ${label}-----`;
    const endAt = text.indexOf(endMarker, bodyStart);
    if (endAt === -1) {
      blocks.push({ label, body: '', terminated: false });
      break;
    }
    blocks.push({ label, body: text.slice(bodyStart, endAt), terminated: true });
    searchFrom = endAt + endMarker.length;
  }
  return blocks;
}

export function decodePemBody(body: string): Buffer {
  const base64 = body.replace(/\s+/g, '');
  // Buffer.from(…, 'base64') silently drops bad characters, so validate first or a damaged block would
  // come out as a different, still plausible byte string.
  if (base64.length === 0 || base64.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) {
    throw new MalformedPemBlockError('invalid base64 in PEM block');
  }
  return Buffer.from(base64, 'base64');
}

/** The certificate's DER from a certificate block's bytes, without the trust settings of a TRUSTED block. */
export function certificateBlockDer(bytes: Buffer, label: string): Buffer {
  return label === 'TRUSTED CERTIFICATE' ? bytes.subarray(0, outerElementLength(bytes)) : bytes;
}

/** Length of the leading DER element, so trust settings after a TRUSTED CERTIFICATE can be cut off. */
function outerElementLength(bytes: Buffer): number {
  if (bytes.length < 2) return bytes.length;
  const first = bytes[1];
  if ((first & 0x80) === 0) return 2 + first;
  const lengthBytes = first & 0x7f;
  if (lengthBytes === 0 || lengthBytes > 4 || bytes.length < 2 + lengthBytes) return bytes.length;
  return 2 + lengthBytes + bytes.readUIntBE(2, lengthBytes);
}
