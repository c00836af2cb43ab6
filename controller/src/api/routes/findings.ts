// Findings: expired, expiring, weak, self-signed served, hostname mismatch, incomplete chain, drift,
// unused on disk and locked keystores — each naming its hosts and paths or endpoints.
import type { FastifyInstance } from 'fastify';
import { findFindings } from '../../findings/findings.js';
import { requestEm, requirePermission } from '../auth.js';
import { problemResponses } from '../problem.js';
import { findingPage, listFindingsQuery } from '../schemas.js';
import type { ZodTypeProvider } from '../zod-compiler.js';

export async function findingRoutes(instance: FastifyInstance): Promise<void> {
  const app = instance.withTypeProvider<ZodTypeProvider>();
  app.get('/api/v1/findings', {
    onRequest: requirePermission('read'),
    schema: {
      tags: ['findings'],
      summary: 'What needs attention, per certificate, with every host and path or endpoint',
      querystring: listFindingsQuery,
      response: { 200: findingPage, ...problemResponses(400, 401, 403) },
    },
  }, async (request) => {
    const { kind, expiringWithinDays, agent, limit, offset } = request.query;
    const findings = await findFindings(requestEm(request), { kinds: kind ? [kind] : undefined, expiringWithinDays, agentId: agent });
    return { items: findings.slice(offset, offset + limit), total: findings.length, limit, offset };
  });
}
