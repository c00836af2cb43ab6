// Tokens are random and long, so a plain SHA-256 is the right hash: no salt or slow KDF is needed to stop
// guessing, and it lets the database look a token up by its hash.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export function hashToken(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export function sameHash(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && timingSafeEqual(left, right);
}
