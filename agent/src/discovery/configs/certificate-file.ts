// What the config parsers need to know from a certificate file itself: HAProxy and Apache accept a key in
// the same PEM as the certificate, and HAProxy picks the certificate for an SNI name by the names it holds.
import { constants as fsConstants } from 'node:fs';
import { access, open } from 'node:fs/promises';
import { certificateFacts } from '../../../../proto/shared/certificate-facts.js';
import { describeFsError } from './fs-errors.js';

export interface CertificateFileFacts {
  holdsPrivateKey: boolean;
  /** DNS names of the first certificate (its subjectAltName, else its CN), lower-cased. */
  names: string[];
}

const MAX_BYTES = 1024 * 1024;
const PRIVATE_KEY_BEGIN = /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/;
// The leaf comes first in a server's certificate file (nginx, Apache and HAProxy all require that order).
const FIRST_CERTIFICATE = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+?)-----END CERTIFICATE-----/;

export async function readCertificateFile(path: string, signal?: AbortSignal): Promise<CertificateFileFacts | { error: string }> {
  let bytes: Buffer;
  try {
    const handle = await open(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
    try {
      const stats = await handle.stat();
      if (!stats.isFile()) return { error: 'not a regular file' };
      if (stats.size > MAX_BYTES) return { error: `larger than ${MAX_BYTES} bytes` };
      bytes = await handle.readFile({ signal });
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (signal?.aborted) throw err;
    return { error: describeFsError(err) };
  }
  const text = bytes.toString('latin1');
  return { holdsPrivateKey: PRIVATE_KEY_BEGIN.test(text), names: leafNames(text) };
}

// Names only steer which SNI names a binding lists, so a certificate that does not parse just has none.
function leafNames(text: string): string[] {
  const body = FIRST_CERTIFICATE.exec(text)?.[1];
  if (body === undefined) return [];
  let facts;
  try {
    facts = certificateFacts(Buffer.from(body.replace(/\s+/g, ''), 'base64'));
  } catch {
    return [];
  }
  const dnsNames = facts.sans.filter((san) => san.startsWith('DNS:')).map((san) => san.slice(4).toLowerCase());
  const commonName = /(?:^|\n)CN=([^\n]+)/.exec(facts.subject)?.[1]?.toLowerCase();
  return dnsNames.length > 0 ? dnsNames : commonName ? [commonName] : [];
}

export async function fileExists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}
