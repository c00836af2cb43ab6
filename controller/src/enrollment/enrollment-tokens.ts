// Single-use, expiring enrolment tokens. The printed token is "<id>.<secret>": the id finds the row, the
// secret is checked against its stored hash. Consuming a token is one conditional UPDATE, so two agents
// racing with the same token cannot both enrol.
import type { EntityManager } from '@mikro-orm/postgresql';
import { randomBytes } from 'node:crypto';
import { EnrollmentToken } from '../db/entities/enrollment-token.js';
import { hashToken, randomToken, sameHash } from '../auth/token-hash.js';

export class EnrollmentRefusedError extends Error {
  override name = 'EnrollmentRefusedError';
}

export async function createEnrollmentToken(
  em: EntityManager,
  input: { createdBy: string; description?: string | null; expiresAt: Date },
): Promise<{ id: string; token: string; expiresAt: Date }> {
  const id = randomBytes(6).toString('hex');
  const secret = randomToken();
  em.create(EnrollmentToken, {
    id,
    secretHash: hashToken(secret),
    description: input.description ?? null,
    createdBy: input.createdBy,
    expiresAt: input.expiresAt,
    usedAt: null,
    usedByAgentId: null,
  });
  await em.flush();
  return { id, token: `${id}.${secret}`, expiresAt: input.expiresAt };
}

/**
 * Marks the token used by `agentId`, inside the caller's transaction. Throws EnrollmentRefusedError with
 * a message that says why (unknown, malformed, used, expired) — the token secret itself is never echoed.
 */
export async function consumeEnrollmentToken(em: EntityManager, token: string, agentId: string, now = new Date()): Promise<string> {
  const match = /^([0-9a-f]{12})\.([A-Za-z0-9_-]{20,})$/.exec(token.trim());
  if (!match) throw new EnrollmentRefusedError('the enrolment token is malformed (expected "<id>.<secret>")');
  const [, id, secret] = match;
  const row = await em.findOne(EnrollmentToken, { id });
  if (!row || !sameHash(row.secretHash, hashToken(secret))) throw new EnrollmentRefusedError('the enrolment token is not valid');
  if (row.usedAt) throw new EnrollmentRefusedError('the enrolment token has already been used');
  if (row.expiresAt <= now) throw new EnrollmentRefusedError('the enrolment token has expired');
  const updated = await em.nativeUpdate(EnrollmentToken, { id, usedAt: null }, { usedAt: now, usedByAgentId: agentId });
  if (updated !== 1) throw new EnrollmentRefusedError('the enrolment token has already been used');
  return id;
}
