// Finds the certificates in one file's bytes, whether PEM text (bundles, CRLF, comments between blocks) or a
// single raw DER certificate. Every candidate is fully parsed here, so callers only ever see certificates that
// certificateFacts accepts, and one bad block never hides the good ones next to it.
//
// Private keys share files with certificates (combined PEMs, privkey.pem). Only certificate blocks are sliced
// out; other blocks are skipped by position, and no problem message ever quotes file content.
import { extname } from 'node:path';
import { certificateFacts, type CertificateFacts } from '../../../proto/shared/certificate-facts.js';

export type CertificateFormat = 'pem' | 'der';

export interface CertificateOccurrence {
  /** Position among the file's certificate blocks, counting malformed ones, so positions stay stable. */
  index: number;
  format: CertificateFormat;
  der: Buffer;
  facts: CertificateFacts;
}

export interface ExtractionResult {
  occurrences: CertificateOccurrence[];
  problems: string[];
}

// OpenSSL's TRUSTED CERTIFICATE appends trust settings after the certificate; the others are old spellings.
const CERTIFICATE_LABELS = new Set(['CERTIFICATE', 'TRUSTED CERTIFICATE', 'X509 CERTIFICATE']);
const CERTIFICATE_EXTENSIONS = new Set(['.pem', '.crt', '.cer', '.der']);
const BEGIN_LINE = /-----BEGIN ([A-Z0-9 ]+)-----/g;
const DER_SEQUENCE_TAG = 0x30;

export function extractCertificates(bytes: Buffer, fileName: string): ExtractionResult {
  // latin1 maps each byte to one character, so offsets match the file and binary files cannot fail to decode.
  const text = bytes.toString('latin1');
  const pem = extractPemCertificates(text);
  // A PEM file holding only keys, requests or CRLs is not a broken certificate file, even if named .pem.
  if (pem.sawPemBlock) return { occurrences: pem.occurrences, problems: pem.problems };
  if (bytes[0] === DER_SEQUENCE_TAG) {
    try {
      return { occurrences: [{ index: 0, format: 'der', der: bytes, facts: certificateFacts(bytes) }], problems: [] };
    } catch {
      // Many binary files start with a SEQUENCE (keys, PKCS#12); only a certificate-named file is a problem.
    }
  }
  return { occurrences: [], problems: looksLikeCertificateFile(fileName) ? ['no certificate found'] : [] };
}

function looksLikeCertificateFile(fileName: string): boolean {
  return CERTIFICATE_EXTENSIONS.has(extname(fileName).toLowerCase());
}

interface PemScan extends ExtractionResult {
  sawPemBlock: boolean;
  certificateBlocks: number;
}

function extractPemCertificates(text: string): PemScan {
  const scan: PemScan = { occurrences: [], problems: [], sawPemBlock: false, certificateBlocks: 0 };
  let searchFrom = 0;
  for (;;) {
    BEGIN_LINE.lastIndex = searchFrom;
    const begin = BEGIN_LINE.exec(text);
    if (begin === null) break;
    scan.sawPemBlock = true;
    const label = begin[1];
    const bodyStart = begin.index + begin[0].length;
    const endMarker = `-----END ${label}-----`;
    const endAt = text.indexOf(endMarker, bodyStart);
    if (!CERTIFICATE_LABELS.has(label)) {
      if (endAt === -1) break;
      searchFrom = endAt + endMarker.length;
      continue;
    }
    const index = scan.certificateBlocks++;
    if (endAt === -1) {
      scan.problems.push(`certificate block ${index}: no "${endMarker}" line`);
      break;
    }
    searchFrom = endAt + endMarker.length;
    try {
      const der = decodeCertificateBlock(text.slice(bodyStart, endAt), label);
      scan.occurrences.push({ index, format: 'pem', der, facts: certificateFacts(der) });
    } catch (err) {
      scan.problems.push(`certificate block ${index}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return scan;
}

class MalformedPemBlockError extends Error {
  override readonly name = 'MalformedPemBlockError';
}

function decodeCertificateBlock(body: string, label: string): Buffer {
  const base64 = body.replace(/\s+/g, '');
  // Buffer.from(…, 'base64') silently drops bad characters, so validate first or a damaged block would
  // come out as a different, still plausible byte string.
  if (base64.length === 0 || base64.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) {
    throw new MalformedPemBlockError('invalid base64 in PEM block');
  }
  const bytes = Buffer.from(base64, 'base64');
  if (label !== 'TRUSTED CERTIFICATE') return bytes;
  return bytes.subarray(0, outerElementLength(bytes));
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
