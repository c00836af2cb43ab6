// Just enough ASN.1 BER to walk the containers certificates hide in (PKCS#7, PKCS#12) and to find a
// certificate's public key. BER, not only DER: Windows and Java write PKCS#12 and PKCS#7 files with
// indefinite lengths and chunked OCTET STRINGs. Element positions index into the caller's Buffer, so a
// certificate found inside a container is sliced out byte for byte and its fingerprint matches the original.

export class MalformedBerError extends Error {
  override readonly name = 'MalformedBerError';
}

export interface BerElement {
  tag: number;
  /** Where the element's header starts, and where its content starts and ends (before any end-of-contents). */
  start: number;
  contentStart: number;
  contentEnd: number;
  /** Just past the element, including the two end-of-contents bytes of an indefinite length. */
  end: number;
}

export const TAG = {
  integer: 0x02, bitString: 0x03, octetString: 0x04, null: 0x05, oid: 0x06, sequence: 0x30, set: 0x31,
  constructedOctetString: 0x24, context0: 0xa0, context1: 0xa1, implicitPrimitive0: 0x80,
} as const;

const CONSTRUCTED = 0x20;
// Nesting bound for indefinite lengths, so a hostile file cannot recurse the stack away.
const MAX_DEPTH = 64;

export function readElement(bytes: Buffer, offset: number, limit = bytes.length, depth = 0): BerElement {
  if (offset + 2 > limit) throw new MalformedBerError('truncated element');
  const tag = bytes[offset];
  if ((tag & 0x1f) === 0x1f) throw new MalformedBerError('unsupported multi-byte tag');
  const first = bytes[offset + 1];
  let contentStart = offset + 2;
  if (first === 0x80) {
    if ((tag & CONSTRUCTED) === 0) throw new MalformedBerError('indefinite length on a primitive element');
    if (depth >= MAX_DEPTH) throw new MalformedBerError('nested too deeply');
    // Indefinite length: the content is a run of elements ended by two zero bytes.
    let cursor = contentStart;
    for (;;) {
      if (cursor + 2 > limit) throw new MalformedBerError('missing end-of-contents');
      if (bytes[cursor] === 0 && bytes[cursor + 1] === 0) break;
      cursor = readElement(bytes, cursor, limit, depth + 1).end;
    }
    return { tag, start: offset, contentStart, contentEnd: cursor, end: cursor + 2 };
  }
  let length = first;
  if (first & 0x80) {
    const lengthBytes = first & 0x7f;
    // More than four length bytes would describe more than any file the scanner reads.
    if (lengthBytes > 4) throw new MalformedBerError('invalid length');
    if (contentStart + lengthBytes > limit) throw new MalformedBerError('truncated length');
    length = bytes.readUIntBE(contentStart, lengthBytes);
    contentStart += lengthBytes;
  }
  const contentEnd = contentStart + length;
  if (contentEnd > limit) throw new MalformedBerError('element runs past its container');
  return { tag, start: offset, contentStart, contentEnd, end: contentEnd };
}

export function childrenOf(bytes: Buffer, parent: BerElement, depth = 0): BerElement[] {
  const children: BerElement[] = [];
  for (let offset = parent.contentStart; offset < parent.contentEnd;) {
    const child = readElement(bytes, offset, parent.contentEnd, depth);
    children.push(child);
    offset = child.end;
  }
  return children;
}

export function expectTag(element: BerElement | undefined, tag: number, what: string): BerElement {
  if (element === undefined || element.tag !== tag) throw new MalformedBerError(`missing or invalid ${what}`);
  return element;
}

/** The whole element, header included: a certificate inside a container, exactly as stored. */
export function elementBytes(bytes: Buffer, element: BerElement): Buffer {
  return bytes.subarray(element.start, element.end);
}

/** The bytes of an OCTET STRING, primitive or chunked into a constructed one (BER). */
export function octetStringBytes(bytes: Buffer, element: BerElement): Buffer {
  if ((element.tag & CONSTRUCTED) === 0) return bytes.subarray(element.contentStart, element.contentEnd);
  return Buffer.concat(childrenOf(bytes, element).map((chunk) => octetStringBytes(bytes, chunk)));
}

export function decodeOid(bytes: Buffer, element: BerElement): string {
  // Plain numbers, not BigInt: the arcs in the formats read here all fit well within 2^53.
  const arcs: number[] = [];
  let value = 0;
  for (let i = element.contentStart; i < element.contentEnd; i++) {
    value = value * 128 + (bytes[i] & 0x7f);
    if ((bytes[i] & 0x80) === 0) {
      arcs.push(value);
      value = 0;
    }
  }
  if (arcs.length === 0 || (bytes[element.contentEnd - 1] & 0x80) !== 0) throw new MalformedBerError('malformed object identifier');
  const first = arcs[0] < 80 ? Math.floor(arcs[0] / 40) : 2;
  return [first, arcs[0] - first * 40, ...arcs.slice(1)].join('.');
}

export function decodeSmallInteger(bytes: Buffer, element: BerElement): number {
  const length = element.contentEnd - element.contentStart;
  if (element.tag !== TAG.integer || length < 1 || length > 6) throw new MalformedBerError('invalid integer');
  return bytes.readUIntBE(element.contentStart, length);
}

/**
 * The SubjectPublicKeyInfo of a DER certificate, as stored: what a private key is matched against. Walks
 * only the headers of the TBSCertificate, so it costs microseconds, not a second parse.
 */
export function subjectPublicKeyInfo(der: Buffer): Buffer {
  const certificate = readElement(der, 0);
  const tbs = expectTag(readElement(der, certificate.contentStart, certificate.contentEnd), TAG.sequence, 'tbsCertificate');
  let offset = tbs.contentStart;
  let field = readElement(der, offset, tbs.contentEnd);
  // [0] version is optional; then serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo.
  let skip = field.tag === TAG.context0 ? 6 : 5;
  while (skip-- > 0) {
    offset = field.end;
    field = readElement(der, offset, tbs.contentEnd);
  }
  return elementBytes(der, expectTag(field, TAG.sequence, 'subjectPublicKeyInfo'));
}
