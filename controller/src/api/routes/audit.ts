// The audit trail: list (paged by sequence number), export as JSON Lines, and verify the hash chain.
import type { FastifyInstance } from 'fastify';
import { Readable } from 'node:stream';
import { z } from 'zod';
import { chainPendingAudit, readAudit, verifyAudit, type AuditFilter } from '../../audit/audit-trail.js';
import { requestEm, requirePermission } from '../auth.js';
import { problemResponses } from '../problem.js';
import { auditPage, auditQuery, auditVerdict } from '../schemas.js';
import type { ZodTypeProvider } from '../zod-compiler.js';

export async function auditRoutes(instance: FastifyInstance): Promise<void> {
  const app = instance.withTypeProvider<ZodTypeProvider>();
  const filterOf = (q: { actor?: string; action?: string; targetType?: string; targetId?: string; since?: string; until?: string }): AuditFilter => ({
    actor: q.actor, action: q.action, targetType: q.targetType, targetId: q.targetId,
    since: q.since ? new Date(q.since) : undefined, until: q.until ? new Date(q.until) : undefined,
  });

  app.get('/api/v1/audit', {
    onRequest: requirePermission('read-audit'),
    schema: {
      tags: ['audit'], summary: 'Audit entries in order, filtered; page with `after`', querystring: auditQuery,
      response: { 200: auditPage, ...problemResponses(400, 401, 403) },
    },
  }, async (request) => {
    // Entries committed but not chained yet are chained now, so a reader never misses one.
    await chainPendingAudit(requestEm(request));
    const items = await readAudit(requestEm(request), filterOf(request.query), request.query.after, request.query.limit);
    return { items, nextAfter: items.length === request.query.limit ? items[items.length - 1].seq : null };
  });

  app.get('/api/v1/audit/export', {
    onRequest: requirePermission('read-audit'),
    schema: {
      tags: ['audit'], summary: 'Every matching audit entry as JSON Lines (application/x-ndjson)',
      querystring: auditQuery.omit({ after: true, limit: true }),
      response: { 200: z.string().meta({ description: 'One audit entry (as in GET /api/v1/audit) per line' }), ...problemResponses(400, 401, 403) },
    },
  }, async (request, reply) => {
    const em = requestEm(request);
    await chainPendingAudit(em);
    const filter = filterOf(request.query);
    async function* lines() {
      for (let after = 0; ;) {
        const batch = await readAudit(em, filter, after, 1000);
        if (!batch.length) return;
        yield batch.map((entry) => JSON.stringify(entry) + '\n').join('');
        after = batch[batch.length - 1].seq;
      }
    }
    // Fastify sends a stream as it is (no serialiser); the typed reply only knows the documented string.
    const raw = reply.type('application/x-ndjson').header('content-disposition', 'attachment; filename="certflow-audit.jsonl"');
    (raw as unknown as { send(body: Readable): unknown }).send(Readable.from(lines()));
    return reply;
  });

  app.get('/api/v1/audit/verify', {
    onRequest: requirePermission('read-audit'),
    schema: {
      tags: ['audit'], summary: 'Recompute the hash chain; names the first broken link',
      response: { 200: auditVerdict, ...problemResponses(401, 403) },
    },
  }, async (request) => verifyAudit(requestEm(request)));
}
