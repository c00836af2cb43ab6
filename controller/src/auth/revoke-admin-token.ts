// Revoking an admin API token. The last admin token that still works cannot be revoked: that would lock
// every operator out of the controller.
import type { EntityManager } from '@mikro-orm/postgresql';
import { AdminToken } from '../db/entities/admin-token.js';
import { appendAudit } from '../audit/audit-trail.js';

export class RevokeRefusedError extends Error {
  override name = 'RevokeRefusedError';
}

export async function revokeAdminToken(em: EntityManager, id: string, actor: string): Promise<AdminToken | null> {
  return em.transactional(async (tx) => {
    // Serialises revocations, so two admins revoking each other at once cannot leave none.
    await tx.execute('select pg_advisory_xact_lock(?)', [0x63667472]);
    const token = await tx.findOne(AdminToken, { id });
    if (!token) return null;
    if (token.revokedAt) return token;
    const now = new Date();
    if (token.role === 'admin') {
      const others = await tx.count(AdminToken, {
        role: 'admin', revokedAt: null, id: { $ne: id }, $or: [{ expiresAt: null }, { expiresAt: { $gt: now } }],
      });
      if (others === 0) throw new RevokeRefusedError('this is the last working admin token; create another admin token first');
    }
    token.revokedAt = now;
    await tx.flush();
    await appendAudit(tx, { actor, action: 'admin-token.revoke', targetType: 'admin-token', targetId: id, before: { name: token.name, role: token.role } });
    return token;
  });
}
