// Decides what one file's bytes are and collects what it holds: certificates (PEM, DER, PKCS#7, PKCS#12, JKS,
// JCEKS), the public-key hashes of its private keys, a keystore summary, and problems. The content decides
// the format, not the name (Windows writes PKCS#7 into .cer files); the name only decides whether content
// that is none of these is worth a problem: garbage in a .crt or .p12 is, any other binary file is not.
//
// Every candidate certificate is parsed here (its full facts are computed when read, see
// certificate-parser.ts), and one bad block never hides the good ones next to it.
import { extname } from 'node:path';
import type { CertificateFacts } from '../../../proto/shared/certificate-facts.js';
import type { CertificateParser } from './certificate-parser.js';
import { javaKeystoreKind, readJavaKeystore } from './java-keystore.js';
import { CERTIFICATE_LABELS, certificateBlockDer, decodePemBody, mayContainPem, pemBlocks, PKCS7_LABELS } from './pem-der.js';
import { looksLikePkcs12, openPkcs12, type KeystoreState } from './pkcs12.js';
import { looksLikePkcs7, pkcs7Certificates } from './pkcs7.js';
import { isLegacyEncryptedPemBody, PRIVATE_KEY_LABELS, publicKeySha256OfPrivateKey } from './private-keys.js';

export type CertificateFormat = 'pem' | 'der' | 'pkcs7' | 'pkcs12' | 'jks' | 'jceks';
export type KeystoreKind = 'pkcs12' | 'jks' | 'jceks';
export type { KeystoreState };

export interface FoundCertificate {
  /** Position among the file's certificates, counting malformed certificate blocks, so positions stay stable. */
  index: number;
  format: CertificateFormat;
  der: Buffer;
  facts: CertificateFacts;
  publicKeySha256: string;
  /** The same file (or keystore) holds this certificate's private key. */
  keyInSameFile: boolean;
}

export interface KeystoreSummary {
  kind: KeystoreKind;
  state: KeystoreState;
  certificates: number;
  message: string;
}

export interface FileFindings {
  certificates: FoundCertificate[];
  /** Public-key hashes of the usable private keys in the file: only hashes, never key material. */
  keyHashes: string[];
  notices: { type: 'problem' | 'skipped'; message: string }[];
  keystore: KeystoreSummary | null;
}

export interface ExamineContext {
  parser: CertificateParser;
  keystorePasswords: readonly string[];
}

const CERTIFICATE_EXTENSIONS = new Set(['.pem', '.crt', '.cer', '.der', '.p7b', '.p7c']);
const PKCS12_EXTENSIONS = new Set(['.p12', '.pfx']);
const JAVA_KEYSTORE_EXTENSIONS = new Set(['.jks', '.jceks', '.keystore', '.truststore']);
const DER_SEQUENCE_TAG = 0x30;

/** `bytes` may be reused by the caller once this returns: nothing in the findings refers to it. */
export async function examineFile(bytes: Buffer, path: string, context: ExamineContext): Promise<FileFindings> {
  const findings: FileFindings = { certificates: [], keyHashes: [], notices: [], keystore: null };
  const extension = extname(path).toLowerCase();
  const javaKind = javaKeystoreKind(bytes);
  if (javaKind !== null) {
    readJavaStore(bytes, javaKind, context, findings);
  } else if (mayContainPem(bytes) && readPem(bytes, context, findings)) {
    // A PEM file holding only keys, requests or CRLs is not a broken certificate file, even if named .pem.
  } else if (PKCS12_EXTENSIONS.has(extension) || (bytes[0] === DER_SEQUENCE_TAG && looksLikePkcs12(bytes))) {
    await readPkcs12(bytes, context, findings);
  } else if (bytes[0] === DER_SEQUENCE_TAG && looksLikePkcs7(bytes)) {
    readPkcs7(bytes, 'pkcs7', 0, context, findings, '');
  } else if (bytes[0] === DER_SEQUENCE_TAG) {
    readDer(bytes, CERTIFICATE_EXTENSIONS.has(extension) || JAVA_KEYSTORE_EXTENSIONS.has(extension), context, findings);
  } else if (JAVA_KEYSTORE_EXTENSIONS.has(extension)) {
    problem(findings, 'malformed Java keystore: no JKS or JCEKS header');
  } else if (CERTIFICATE_EXTENSIONS.has(extension)) {
    problem(findings, looksLikeText(bytes) ? 'no certificate found' : 'malformed: neither PEM nor DER');
  }
  const keys = new Set(findings.keyHashes);
  for (const certificate of findings.certificates) certificate.keyInSameFile ||= keys.has(certificate.publicKeySha256);
  return findings;
}

/** Returns false when the file has no PEM block at all, so it is looked at as binary instead. */
function readPem(bytes: Buffer, context: ExamineContext, findings: FileFindings): boolean {
  const blocks = pemBlocks(bytes);
  let certificateIndex = 0;
  let keyIndex = 0;
  let pkcs7Index = 0;
  for (const { label, body, terminated } of blocks) {
    if (CERTIFICATE_LABELS.has(label)) {
      const index = certificateIndex++;
      if (!terminated) {
        problem(findings, `certificate block ${index}: no "-----END ${label}-----" line`);
        continue;
      }
      attempt(findings, `certificate block ${index}`, () => {
        addCertificate(findings, context, index, 'pem', certificateBlockDer(decodePemBody(body), label), false);
      });
    } else if (PKCS7_LABELS.has(label) && terminated) {
      const where = `PKCS#7 block ${pkcs7Index++}`;
      let der: Buffer;
      try {
        der = decodePemBody(body);
      } catch (err) {
        problem(findings, `${where}: ${messageOf(err)}`);
        continue;
      }
      certificateIndex = readPkcs7(der, 'pkcs7', certificateIndex, context, findings, `${where}: `);
    } else if (PRIVATE_KEY_LABELS.has(label) && terminated) {
      const index = keyIndex++;
      const encoding = PRIVATE_KEY_LABELS.get(label);
      if (encoding === 'encrypted' || isLegacyEncryptedPemBody(body)) {
        findings.notices.push({ type: 'skipped', message: `private key block ${index}: encrypted, not matched to certificates` });
        continue;
      }
      attempt(findings, `private key block ${index}`, () => {
        const der = decodePemBody(body);
        try {
          findings.keyHashes.push(publicKeySha256OfPrivateKey(der, encoding === 'pkcs1' ? 'pkcs1' : encoding === 'sec1' ? 'sec1' : 'pkcs8'));
        } finally {
          der.fill(0);
        }
      });
    }
  }
  return blocks.length > 0;
}

/** Adds the certificates of a PKCS#7 SignedData; returns the next certificate index. */
function readPkcs7(bytes: Buffer, format: CertificateFormat, firstIndex: number, context: ExamineContext, findings: FileFindings, where: string): number {
  let ders: Buffer[];
  try {
    ders = pkcs7Certificates(bytes);
  } catch (err) {
    problem(findings, `${where}malformed PKCS#7: ${messageOf(err)}`);
    return firstIndex;
  }
  let index = firstIndex;
  for (const der of ders) {
    const position = index++;
    attempt(findings, `${where}certificate ${position}`, () => addCertificate(findings, context, position, format, der, false));
  }
  return index;
}

function readDer(bytes: Buffer, namedLikeCertificate: boolean, context: ExamineContext, findings: FileFindings): void {
  try {
    addCertificate(findings, context, 0, 'der', bytes, false);
  } catch (err) {
    // Many binary files start with a SEQUENCE (keys, CRLs); only a certificate-named file is a problem.
    if (namedLikeCertificate) problem(findings, `malformed DER certificate: ${messageOf(err)}`);
  }
}

async function readPkcs12(bytes: Buffer, context: ExamineContext, findings: FileFindings): Promise<void> {
  let contents;
  try {
    contents = await openPkcs12(bytes, context.keystorePasswords);
  } catch (err) {
    problem(findings, `malformed PKCS#12: ${messageOf(err)}`);
    return;
  }
  findings.keyHashes.push(...contents.keyHashes);
  contents.certificates.forEach((der, index) => {
    attempt(findings, `certificate ${index}`, () => addCertificate(findings, context, index, 'pkcs12', der, false));
  });
  findings.keystore = summary('pkcs12', contents.state, findings.certificates.length, contents.reason);
}

function readJavaStore(bytes: Buffer, kind: 'jks' | 'jceks', context: ExamineContext, findings: FileFindings): void {
  let contents;
  try {
    contents = readJavaKeystore(bytes, kind, context.keystorePasswords);
  } catch (err) {
    problem(findings, `malformed ${kind.toUpperCase()} keystore: ${messageOf(err)}`);
    return;
  }
  contents.certificates.forEach(({ der, hasKeyEntry }, index) => {
    attempt(findings, `certificate ${index}`, () => addCertificate(findings, context, index, kind, der, hasKeyEntry));
  });
  findings.keystore = summary(kind, contents.state, findings.certificates.length, contents.reason);
}

function summary(kind: KeystoreKind, state: KeystoreState, certificates: number, reason: string | undefined): KeystoreSummary {
  const count = `${certificates} certificate${certificates === 1 ? '' : 's'}`;
  const message = state === 'opened' ? `${kind} keystore opened (${count})`
    : state === 'locked' ? (kind === 'pkcs12'
      ? `${kind} keystore locked (no configured password opens it)`
      : `${kind} keystore locked (no configured password verifies its integrity; ${count} read without it)`)
      : `${kind} keystore detected (${reason ?? 'contents not readable'}; ${count} read)`;
  return { kind, state, certificates, message };
}

function addCertificate(findings: FileFindings, context: ExamineContext, index: number, format: CertificateFormat, der: Buffer, keyInSameFile: boolean): void {
  // A copy first: `der` may be a view of the scanner's read buffer, which the next file overwrites.
  const owned = Buffer.from(der);
  const { facts, publicKeySha256 } = context.parser.parse(owned);
  findings.certificates.push({ index, format, der: owned, facts, publicKeySha256, keyInSameFile });
}

/** Runs one item's work; a failure becomes a problem for that item and the rest of the file goes on. */
function attempt(findings: FileFindings, where: string, work: () => void): void {
  try {
    work();
  } catch (err) {
    problem(findings, `${where}: ${messageOf(err)}`);
  }
}

function problem(findings: FileFindings, message: string): void {
  findings.notices.push({ type: 'problem', message });
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Text files get the old, plain "no certificate found"; binary garbage is called malformed. */
function looksLikeText(bytes: Buffer): boolean {
  const sample = bytes.subarray(0, 512);
  let printable = 0;
  for (const byte of sample) {
    if (byte === 0) return false;
    if (byte >= 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d) printable++;
  }
  return printable >= sample.length * 0.95;
}
