// Bearer tokens of the admin API. A token is shown once when created; only its hash is stored.
import type { EntityManager } from '@mikro-orm/postgresql';
import { AdminToken, type AdminRole } from '../db/entities/admin-token.js';
import { hashToken, randomToken } from './token-hash.js';
import { appendAudit } from '../audit/audit-trail.js';

export const ADMIN_TOKEN_PREFIX = 'cfa_';

export interface Principal {
  tokenId: string;
  name: string;
  role: AdminRole;
}

export async function createAdminToken(
  em: EntityManager,
  input: { name: string; role: AdminRole; expiresAt?: Date | null; token?: string; actor?: string },
): Promise<{ id: string; token: string }> {
  const token = input.token ?? ADMIN_TOKEN_PREFIX + randomToken();
  const id = crypto.randomUUID();
  await em.transactional(async (tx) => {
    tx.create(AdminToken, { id, name: input.name, role: input.role, tokenHash: hashToken(token), expiresAt: input.expiresAt ?? null });
    await tx.flush();
    await appendAudit(tx, {
      actor: input.actor ?? 'controller', action: 'admin-token.create', targetType: 'admin-token', targetId: id,
      after: { name: input.name, role: input.role, expiresAt: input.expiresAt?.toISOString() ?? null },
    });
  });
  return { id, token };
}

/** The principal behind a bearer token, or null when the token is unknown, revoked or expired. */
export async function authenticateAdminToken(em: EntityManager, token: string, now = new Date()): Promise<Principal | null> {
  const row = await em.findOne(AdminToken, { tokenHash: hashToken(token) });
  if (!row || row.revokedAt || (row.expiresAt && row.expiresAt <= now)) return null;
  // Last use is bookkeeping: one cheap UPDATE, at most once a minute per token.
  if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() > 60_000) {
    await em.nativeUpdate(AdminToken, { id: row.id }, { lastUsedAt: now });
  }
  return { tokenId: row.id, name: row.name, role: row.role };
}

/**
 * At first start the controller needs one admin token. If the operator gave one (CERTFLOW_ADMIN_TOKEN)
 * it is registered; otherwise a new one is generated and returned so main.ts can show it once.
 * Returns null when an admin token already exists.
 */
export async function ensureInitialAdminToken(em: EntityManager, given?: string): Promise<string | null> {
  if (given) {
    const existing = await em.findOne(AdminToken, { tokenHash: hashToken(given) });
    if (existing) return null;
    await createAdminToken(em, { name: 'initial-admin', role: 'admin', token: given });
    return null;
  }
  if ((await em.count(AdminToken, { role: 'admin', revokedAt: null })) > 0) return null;
  return (await createAdminToken(em, { name: 'initial-admin', role: 'admin' })).token;
}
