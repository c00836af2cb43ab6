// ACME Renewal Information (RFC 9773). acme-client has none, so: the certificate's ARI identifier
// (base64url of its authority key identifier, a dot, base64url of its serial's DER content octets) and
// a GET of `<renewalInfo>/<id>`, whose answer is the suggested window and whose Retry-After says when
// to ask again.
import { x509 } from '../../../../proto/shared/x509.js';
import type { RenewalInfo } from '../issuer.js';

/** Retry-After default when the CA sends none (RFC 9773 suggests polling about twice a day). */
export const DEFAULT_ARI_RETRY_MS = 6 * 3600_000;

export class RenewalInfoError extends Error {
  override name = 'RenewalInfoError';
}

export function ariCertificateId(certificatePem: string): string {
  const cert = new x509.X509Certificate(certificatePem);
  const aki = cert.getExtension(x509.AuthorityKeyIdentifierExtension);
  if (!aki?.keyId) throw new RenewalInfoError('the certificate has no authority key identifier, so it has no ARI identifier');
  let serial = cert.serialNumber.toLowerCase().replace(/^(00)+(?=[0-9a-f]{2})/, '');
  if (serial.length % 2) serial = '0' + serial;
  // DER integers are signed: a serial whose first bit is set carries a leading zero byte.
  if (parseInt(serial.slice(0, 2), 16) & 0x80) serial = '00' + serial;
  return `${Buffer.from(aki.keyId, 'hex').toString('base64url')}.${Buffer.from(serial, 'hex').toString('base64url')}`;
}

/** Reads the CA's answer; throws RenewalInfoError when it is not a window. */
export function parseRenewalInfo(body: unknown, retryAfter: Date | null, now = Date.now()): RenewalInfo {
  const data = body as { suggestedWindow?: { start?: unknown; end?: unknown }; explanationURL?: unknown } | null;
  const start = typeof data?.suggestedWindow?.start === 'string' ? new Date(data.suggestedWindow.start) : null;
  const end = typeof data?.suggestedWindow?.end === 'string' ? new Date(data.suggestedWindow.end) : null;
  if (!start || !end || Number.isNaN(start.getTime()) || Number.isNaN(end.getTime()) || end < start) {
    throw new RenewalInfoError('the renewal information has no valid suggestedWindow (start before end)');
  }
  return {
    suggestedWindow: { start, end },
    ...(typeof data?.explanationURL === 'string' ? { explanationUrl: data.explanationURL } : {}),
    retryAfter: retryAfter ?? new Date(now + DEFAULT_ARI_RETRY_MS),
  };
}
