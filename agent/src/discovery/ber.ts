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
  constructedOctetString: 0x24, context0: 0xa0, context1: 0xa1, implicitPrimitive0: 0x80, utcTime: 0x17, generalizedTime: 0x18,
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
 * Checks that DER bytes have the shape of an X.509 certificate (RFC 5280 4.1: the three parts, and the
 * TBSCertificate fields up to subjectPublicKeyInfo, all with definite lengths and no trailing bytes) and
 * returns its SubjectPublicKeyInfo as stored: what a private key is matched against. Headers only, so it
 * costs microseconds where a full parse costs hundreds; the full parse (certificateFacts) happens where the
 * facts are needed: in the controller, and lazily in the agent (see certificate-parser.ts).
 */
export function certificateSubjectPublicKeyInfo(der: Buffer): Buffer {
  const certificate = definite(expectTag(readElement(der, 0), TAG.sequence, 'certificate'));
  if (certificate.end !== der.length) throw new MalformedBerError('trailing bytes after certificate');
  const parts = childrenOf(der, certificate).map(definite);
  if (parts.length !== 3) throw new MalformedBerError('a certificate has three parts');
  expectTag(parts[1], TAG.sequence, 'signatureAlgorithm');
  expectTag(parts[2], TAG.bitString, 'signature');
  const fields = childrenOf(der, expectTag(parts[0], TAG.sequence, 'tbsCertificate')).map(definite);
  const [serial, signature, issuer, validity, subject, spki] = fields[0]?.tag === TAG.context0 ? fields.slice(1) : fields;
  expectTag(serial, TAG.integer, 'serialNumber');
  expectTag(signature, TAG.sequence, 'signature algorithm');
  expectTag(issuer, TAG.sequence, 'issuer');
  const times = childrenOf(der, expectTag(validity, TAG.sequence, 'validity'));
  if (times.length !== 2 || times.some((time) => time.tag !== TAG.utcTime && time.tag !== TAG.generalizedTime)) {
    throw new MalformedBerError('missing or invalid validity');
  }
  expectTag(subject, TAG.sequence, 'subject');
  const [algorithm, key] = childrenOf(der, expectTag(spki, TAG.sequence, 'subjectPublicKeyInfo'));
  expectTag(algorithm, TAG.sequence, 'public key algorithm');
  expectTag(key, TAG.bitString, 'public key');
  return elementBytes(der, spki);
}

/** DER allows only definite lengths; a certificate with an indefinite one is not DER. */
function definite(element: BerElement): BerElement {
  if (element.end !== element.contentEnd) throw new MalformedBerError('indefinite length in a certificate');
  return element;
}
