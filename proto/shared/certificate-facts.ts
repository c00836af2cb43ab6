// What a certificate says about itself, read from its DER bytes. The controller runs this on the DER agents
// send instead of trusting agent-supplied fields, so it depends on nothing but node:crypto.
//
// node:crypto parses the certificate and checks keys and signatures; a small DER reader fills in what Node 20
// does not expose (signature algorithm, validity as exact instants) and reads subjectAltName itself so that
// IPv6 addresses come out compressed and values need no unquoting.
import { createHash, X509Certificate } from 'node:crypto';
import { isIPv6 } from 'node:net';

export type KeyAlgorithm = 'RSA' | 'EC' | 'Ed25519' | 'Ed448' | 'DSA' | 'X25519' | 'X448';

export interface CertificateFacts {
  fingerprintSha256: string;
  subject: string;
  issuer: string;
  serialNumber: string;
  sans: string[];
  notBefore: string;
  notAfter: string;
  keyAlgorithm: KeyAlgorithm;
  keySize: number | null;
  curve: string | null;
  signatureAlgorithm: string;
  selfSigned: boolean;
  isCa: boolean;
}

export class MalformedCertificateError extends Error {
  override readonly name = 'MalformedCertificateError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export function isMalformedCertificateError(err: unknown): err is MalformedCertificateError {
  return err instanceof MalformedCertificateError;
}

export function certificateFacts(der: Buffer): CertificateFacts {
  const fields = readCertificateFields(der);
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(der);
  } catch (cause) {
    throw new MalformedCertificateError('not a parsable X.509 certificate', { cause });
  }
  const key = publicKeyFacts(cert, fields.publicKeyAlgorithmOid);
  const subject = oneLineName(cert.subject);
  const issuer = oneLineName(cert.issuer);
  return {
    fingerprintSha256: createHash('sha256').update(der).digest('hex'),
    subject,
    issuer,
    serialNumber: cert.serialNumber.toLowerCase(),
    sans: fields.sans,
    notBefore: fields.notBefore.toISOString(),
    notAfter: fields.notAfter.toISOString(),
    ...key,
    signatureAlgorithm: SIGNATURE_ALGORITHM_NAMES[fields.signatureAlgorithmOid] ?? fields.signatureAlgorithmOid,
    selfSigned: issuer === subject && signatureVerifiesWithOwnKey(cert),
    isCa: cert.ca,
  };
}

// Names as OpenSSL spells them, which is what operators compare against `openssl x509 -text`.
const SIGNATURE_ALGORITHM_NAMES: Record<string, string> = {
  '1.2.840.113549.1.1.2': 'md2WithRSAEncryption',
  '1.2.840.113549.1.1.4': 'md5WithRSAEncryption',
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption',
  '1.2.840.113549.1.1.10': 'rsassaPss',
  '1.2.840.113549.1.1.11': 'sha256WithRSAEncryption',
  '1.2.840.113549.1.1.12': 'sha384WithRSAEncryption',
  '1.2.840.113549.1.1.13': 'sha512WithRSAEncryption',
  '1.2.840.113549.1.1.14': 'sha224WithRSAEncryption',
  '1.2.840.10045.4.1': 'ecdsa-with-SHA1',
  '1.2.840.10045.4.3.1': 'ecdsa-with-SHA224',
  '1.2.840.10045.4.3.2': 'ecdsa-with-SHA256',
  '1.2.840.10045.4.3.3': 'ecdsa-with-SHA384',
  '1.2.840.10045.4.3.4': 'ecdsa-with-SHA512',
  '1.2.840.10040.4.3': 'dsaWithSHA1',
  '2.16.840.1.101.3.4.3.1': 'dsa_with_SHA224',
  '2.16.840.1.101.3.4.3.2': 'dsa_with_SHA256',
  '1.3.101.112': 'ED25519',
  '1.3.101.113': 'ED448',
};

const KEY_ALGORITHMS: Record<string, KeyAlgorithm> = {
  rsa: 'RSA', 'rsa-pss': 'RSA', ec: 'EC', ed25519: 'Ed25519', ed448: 'Ed448', dsa: 'DSA', x25519: 'X25519', x448: 'X448',
};

const CURVE_NAMES: Record<string, string> = {
  prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521', secp224r1: 'P-224',
};

function publicKeyFacts(cert: X509Certificate, algorithmOid: string) {
  let type: string | undefined;
  let details: { modulusLength?: number; namedCurve?: string } = {};
  try {
    type = cert.publicKey.asymmetricKeyType;
    details = cert.publicKey.asymmetricKeyDetails ?? {};
  } catch (cause) {
    throw new MalformedCertificateError(`unsupported public key algorithm ${algorithmOid}`, { cause });
  }
  const keyAlgorithm = type === undefined ? undefined : KEY_ALGORITHMS[type];
  if (keyAlgorithm === undefined) {
    throw new MalformedCertificateError(`unsupported public key algorithm ${type ?? algorithmOid}`);
  }
  const hasKeySize = keyAlgorithm === 'RSA' || keyAlgorithm === 'DSA';
  return {
    keyAlgorithm,
    keySize: hasKeySize ? details.modulusLength ?? null : null,
    curve: details.namedCurve === undefined ? null : CURVE_NAMES[details.namedCurve] ?? details.namedCurve,
  };
}

function signatureVerifiesWithOwnKey(cert: X509Certificate): boolean {
  try {
    return cert.verify(cert.publicKey);
  } catch {
    // A key type OpenSSL cannot verify with simply means the certificate is not proven self-signed.
    return false;
  }
}

// Node prints one attribute per line, RFC 4514-escaped (commas, plus signs, control characters), in the
// order the certificate stores them; joining the lines gives the familiar "CN=example.com, O=Example".
function oneLineName(multiline: string): string {
  return multiline.split('\n').filter((line) => line !== '').join(', ');
}

// ---- A minimal DER reader: just enough structure to find the fields node:crypto does not expose. ----

interface DerElement {
  tag: number;
  contentStart: number;
  end: number;
}

function readElement(der: Buffer, offset: number, limit: number): DerElement {
  if (offset + 2 > limit) throw new MalformedCertificateError('truncated DER element');
  const tag = der[offset];
  if ((tag & 0x1f) === 0x1f) throw new MalformedCertificateError('unsupported multi-byte DER tag');
  const first = der[offset + 1];
  let length = first;
  let contentStart = offset + 2;
  if (first & 0x80) {
    const lengthBytes = first & 0x7f;
    // Zero means indefinite length (BER, not DER); more than four bytes would exceed any file we read.
    if (lengthBytes === 0 || lengthBytes > 4) throw new MalformedCertificateError('invalid DER length');
    if (contentStart + lengthBytes > limit) throw new MalformedCertificateError('truncated DER length');
    length = der.readUIntBE(contentStart, lengthBytes);
    contentStart += lengthBytes;
  }
  const end = contentStart + length;
  if (end > limit) throw new MalformedCertificateError('DER element runs past its container');
  return { tag, contentStart, end };
}

function childrenOf(der: Buffer, parent: DerElement): DerElement[] {
  const children: DerElement[] = [];
  for (let offset = parent.contentStart; offset < parent.end; ) {
    const child = readElement(der, offset, parent.end);
    children.push(child);
    offset = child.end;
  }
  return children;
}

function expectTag(element: DerElement | undefined, tag: number, what: string): DerElement {
  if (element === undefined || element.tag !== tag) throw new MalformedCertificateError(`missing or invalid ${what}`);
  return element;
}

function decodeOid(der: Buffer, element: DerElement): string {
  const arcs: bigint[] = [];
  let value = 0n;
  let inArc = false;
  for (let i = element.contentStart; i < element.end; i++) {
    value = (value << 7n) | BigInt(der[i] & 0x7f);
    inArc = (der[i] & 0x80) !== 0;
    if (!inArc) {
      arcs.push(value);
      value = 0n;
    }
  }
  if (arcs.length === 0 || inArc) throw new MalformedCertificateError('malformed object identifier');
  const first = arcs[0] < 80n ? arcs[0] / 40n : 2n;
  return [first, arcs[0] - first * 40n, ...arcs.slice(1)].join('.');
}

const TAG = { sequence: 0x30, oid: 0x06, octetString: 0x04, bitString: 0x03, utcTime: 0x17, generalizedTime: 0x18 };

interface CertificateFields {
  signatureAlgorithmOid: string;
  publicKeyAlgorithmOid: string;
  notBefore: Date;
  notAfter: Date;
  sans: string[];
}

function readCertificateFields(der: Buffer): CertificateFields {
  if (!Buffer.isBuffer(der)) throw new MalformedCertificateError('certificate must be a Buffer of DER bytes');
  const certificate = expectTag(readElement(der, 0, der.length), TAG.sequence, 'certificate');
  // Trailing bytes would make the fingerprint cover more than the certificate; PEM text must be decoded first.
  if (certificate.end !== der.length) throw new MalformedCertificateError('trailing bytes after certificate');
  const [tbsElement, signatureAlgorithm, signature] = childrenOf(der, certificate);
  const tbs = expectTag(tbsElement, TAG.sequence, 'tbsCertificate');
  expectTag(signature, TAG.bitString, 'signature');
  const signatureAlgorithmOid = decodeOid(der, expectTag(
    childrenOf(der, expectTag(signatureAlgorithm, TAG.sequence, 'signatureAlgorithm'))[0], TAG.oid, 'signature algorithm'));

  const fields = childrenOf(der, tbs);
  const hasExplicitVersion = fields[0]?.tag === 0xa0;
  const [, , , validity, , spki, ...optional] = hasExplicitVersion ? fields.slice(1) : fields;
  const [notBefore, notAfter] = childrenOf(der, expectTag(validity, TAG.sequence, 'validity')).map((time) => decodeTime(der, time));
  if (notBefore === undefined || notAfter === undefined) throw new MalformedCertificateError('incomplete validity');
  const spkiAlgorithm = childrenOf(der, expectTag(spki, TAG.sequence, 'subjectPublicKeyInfo'))[0];
  const publicKeyAlgorithmOid = decodeOid(der, expectTag(
    childrenOf(der, expectTag(spkiAlgorithm, TAG.sequence, 'public key algorithm'))[0], TAG.oid, 'public key algorithm'));

  const extensions = optional.find((element) => element.tag === 0xa3);
  return { signatureAlgorithmOid, publicKeyAlgorithmOid, notBefore, notAfter, sans: extensions ? readSans(der, extensions) : [] };
}

function decodeTime(der: Buffer, element: DerElement): Date {
  const text = der.toString('latin1', element.contentStart, element.end);
  const pattern = element.tag === TAG.utcTime ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/
    : element.tag === TAG.generalizedTime ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\.\d+)?Z$/ : undefined;
  const match = pattern?.exec(text);
  if (!match) throw new MalformedCertificateError(`invalid validity time ${JSON.stringify(text)}`);
  let year = Number(match[1]);
  // RFC 5280 4.1.2.5.1: two-digit years 50-99 are 19xx, 00-49 are 20xx.
  if (element.tag === TAG.utcTime) year += year >= 50 ? 1900 : 2000;
  const [month, day, hour, minute, second] = match.slice(2, 7).map(Number);
  const millis = match[7] ? Math.floor(Number(match[7]) * 1000) : 0;
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second, millis));
  if (Number.isNaN(date.getTime()) || date.getUTCDate() !== day) throw new MalformedCertificateError(`invalid validity time ${JSON.stringify(text)}`);
  return date;
}

const SUBJECT_ALT_NAME_OID = '2.5.29.17';

function readSans(der: Buffer, extensionsWrapper: DerElement): string[] {
  const extensions = expectTag(childrenOf(der, extensionsWrapper)[0], TAG.sequence, 'extensions');
  for (const extension of childrenOf(der, extensions)) {
    const parts = childrenOf(der, expectTag(extension, TAG.sequence, 'extension'));
    if (decodeOid(der, expectTag(parts[0], TAG.oid, 'extension id')) !== SUBJECT_ALT_NAME_OID) continue;
    const value = expectTag(parts[parts.length - 1], TAG.octetString, 'extension value');
    const generalNames = expectTag(readElement(der, value.contentStart, value.end), TAG.sequence, 'subjectAltName');
    return childrenOf(der, generalNames).map((name) => describeGeneralName(der, name));
  }
  return [];
}

// Prefixes follow OpenSSL's text form ("DNS:", "IP:", "email:", "URI:") so the strings read as people expect.
function describeGeneralName(der: Buffer, name: DerElement): string {
  const text = () => der.toString('utf8', name.contentStart, name.end);
  switch (name.tag) {
    case 0x81: return `email:${text()}`;
    case 0x82: return `DNS:${text()}`;
    case 0x86: return `URI:${text()}`;
    case 0x87: return `IP:${formatIpAddress(der.subarray(name.contentStart, name.end))}`;
    case 0x88: return `RID:${decodeOid(der, name)}`;
    case 0xa0: {
      const typeId = childrenOf(der, name)[0];
      return `othername:${typeId?.tag === TAG.oid ? decodeOid(der, typeId) : 'unknown'}`;
    }
    case 0xa4: return `DirName:${describeName(der, expectTag(childrenOf(der, name)[0], TAG.sequence, 'directoryName'))}`;
    default: return `unsupported:${(name.tag & 0x1f).toString()}`;
  }
}

const ATTRIBUTE_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN', '2.5.4.5': 'serialNumber', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST', '2.5.4.10': 'O',
  '2.5.4.11': 'OU', '0.9.2342.19200300.100.1.25': 'DC', '1.2.840.113549.1.9.1': 'emailAddress',
};

// Only directory names inside subjectAltName come through here (rare); subject and issuer use Node's printer.
function describeName(der: Buffer, name: DerElement): string {
  return childrenOf(der, name).map((rdn) => childrenOf(der, rdn).map((attribute) => {
    const [type, value] = childrenOf(der, attribute);
    const oid = decodeOid(der, expectTag(type, TAG.oid, 'attribute type'));
    const text = value === undefined ? '' : der.toString('utf8', value.contentStart, value.end);
    return `${ATTRIBUTE_NAMES[oid] ?? oid}=${text.replace(/[,+\\]/g, '\\$&')}`;
  }).join(' + ')).join(', ');
}

function formatIpAddress(bytes: Buffer): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  if (bytes.length === 16) {
    const groups = Array.from({ length: 8 }, (_, i) => bytes.readUInt16BE(i * 2).toString(16)).join(':');
    // Let the URL parser compress runs of zero groups, e.g. 0:0:0:0:0:0:0:1 -> ::1.
    const compressed = new URL(`http://[${groups}]/`).hostname.slice(1, -1);
    return isIPv6(compressed) ? compressed : groups;
  }
  return `invalid(${bytes.toString('hex')})`;
}
