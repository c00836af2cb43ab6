// Admin API tokens: list, create (the token is shown once), revoke. Admins only.
import type { FastifyInstance } from 'fastify';
import { AdminToken } from '../../db/entities/admin-token.js';
import { createAdminToken } from '../../auth/admin-tokens.js';
import { revokeAdminToken, RevokeRefusedError } from '../../auth/revoke-admin-token.js';
import { principalOf, requestEm, requirePermission } from '../auth.js';
import { HttpProblem, notFound, problemResponses } from '../problem.js';
import { adminTokenList, adminTokenSummary, createAdminTokenBody, createdAdminToken, idParams } from '../schemas.js';
import type { ZodTypeProvider } from '../zod-compiler.js';

const iso = (d: Date | null | undefined) => d?.toISOString() ?? null;
const summary = (t: AdminToken) => ({
  id: t.id, name: t.name, role: t.role, createdAt: t.createdAt.toISOString(), expiresAt: iso(t.expiresAt),
  lastUsedAt: iso(t.lastUsedAt), revokedAt: iso(t.revokedAt),
});

export async function adminTokenRoutes(instance: FastifyInstance): Promise<void> {
  const app = instance.withTypeProvider<ZodTypeProvider>();

  app.get('/api/v1/admin-tokens', {
    onRequest: requirePermission('manage-admin-tokens'),
    schema: { tags: ['admin-tokens'], summary: 'Every admin API token (never the token itself)', response: { 200: adminTokenList, ...problemResponses(401, 403) } },
  }, async (request) => {
    const tokens = await requestEm(request).find(AdminToken, {}, { orderBy: { createdAt: 'asc', id: 'asc' } });
    return { items: tokens.map(summary) };
  });

  app.post('/api/v1/admin-tokens', {
    onRequest: requirePermission('manage-admin-tokens'),
    schema: {
      tags: ['admin-tokens'], summary: 'Create an admin API token; the answer shows it once', body: createAdminTokenBody,
      response: { 201: createdAdminToken, ...problemResponses(400, 401, 403) },
    },
  }, async (request, reply) => {
    const { name, role, expiresInDays } = request.body;
    const em = requestEm(request);
    const created = await createAdminToken(em, {
      name, role, actor: `token:${principalOf(request).name}`,
      expiresAt: expiresInDays ? new Date(Date.now() + expiresInDays * 86_400_000) : null,
    });
    const row = await em.findOneOrFail(AdminToken, { id: created.id });
    return reply.code(201).header('cache-control', 'no-store').send({ ...summary(row), token: created.token });
  });

  app.delete('/api/v1/admin-tokens/:id', {
    onRequest: requirePermission('manage-admin-tokens'),
    schema: {
      tags: ['admin-tokens'], summary: 'Revoke an admin API token (not the last working admin token)', params: idParams,
      response: { 200: adminTokenSummary, ...problemResponses(400, 401, 403, 404, 409) },
    },
  }, async (request) => {
    try {
      const revoked = await revokeAdminToken(requestEm(request), request.params.id, `token:${principalOf(request).name}`);
      if (!revoked) throw notFound(`no admin token with id ${request.params.id}`);
      return summary(revoked);
    } catch (err) {
      if (err instanceof RevokeRefusedError) throw new HttpProblem(409, 'conflict', 'Conflict', err.message);
      throw err;
    }
  });
}
