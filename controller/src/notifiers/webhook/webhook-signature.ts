// The webhook signature: X-Certflow-Signature = "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + body)),
// with X-Certflow-Timestamp (Unix seconds) in the signed text, so a captured request cannot be replayed
// later with a new timestamp. Receivers recompute it over the raw body bytes, compare in constant time and
// refuse timestamps too far from their clock.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-certflow-signature';
export const TIMESTAMP_HEADER = 'x-certflow-timestamp';

export function webhookSignature(secret: string, timestamp: number, body: string | Buffer): string {
  return 'sha256=' + createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
}

export type SignatureVerdict = 'ok' | 'missing' | 'bad-signature' | 'stale';

/** What a receiver does: checks the signature over the raw body and that the timestamp is recent. */
export function verifyWebhookSignature(secret: string, headers: { signature?: string; timestamp?: string }, rawBody: string | Buffer,
  toleranceSeconds = 300, nowSeconds = Math.floor(Date.now() / 1000)): SignatureVerdict {
  if (!headers.signature || !headers.timestamp || !/^\d{1,12}$/.test(headers.timestamp)) return 'missing';
  const expected = Buffer.from(webhookSignature(secret, Number(headers.timestamp), rawBody));
  const given = Buffer.from(headers.signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'bad-signature';
  if (Math.abs(nowSeconds - Number(headers.timestamp)) > toleranceSeconds) return 'stale';
  return 'ok';
}
