// TLS endpoints the agents probed, with what each served.
import type { FastifyInstance } from 'fastify';
import { requestEm, requirePermission } from '../auth.js';
import { timestampParser, type SqlTimestamp } from '../db-rows.js';
import { problemResponses } from '../problem.js';
import { endpointPage, listEndpointsQuery } from '../schemas.js';
import type { ZodTypeProvider } from '../zod-compiler.js';

interface EndpointRow {
  id: string;
  agent_id: string;
  agent_name: string;
  host: string;
  port: number;
  server_name: string;
  source: string;
  ok: boolean;
  error: string | null;
  protocol: string | null;
  leaf_certificate_id: string | null;
  leaf_subject: string | null;
  leaf_not_after: SqlTimestamp | null;
  chain_length: number;
  chain_complete: boolean | null;
  name_mismatch: boolean | null;
  first_seen_at: SqlTimestamp;
  last_seen_at: SqlTimestamp;
}

export async function endpointRoutes(instance: FastifyInstance): Promise<void> {
  const app = instance.withTypeProvider<ZodTypeProvider>();
  app.get('/api/v1/endpoints', {
    onRequest: requirePermission('read'),
    schema: {
      tags: ['endpoints'],
      summary: 'Current TLS endpoints and the chain each served',
      querystring: listEndpointsQuery,
      response: { 200: endpointPage, ...problemResponses(400, 401, 403) },
    },
  }, async (request) => {
    const { agent, limit, offset } = request.query;
    const em = requestEm(request);
    const knex = em.getKnex();
    const base = knex('endpoints as e').where('e.removed_at', null).modify((q) => {
      if (agent) q.where('e.agent_id', agent);
    });
    const [rows, [{ count }]] = await Promise.all([
      base.clone()
        .join('agents as a', 'a.id', 'e.agent_id')
        .leftJoin('certificates as c', 'c.id', 'e.leaf_certificate_id')
        .select('e.id', 'e.agent_id', 'a.name as agent_name', 'e.host', 'e.port', 'e.server_name', 'e.source', 'e.ok', 'e.error',
          'e.protocol', 'e.leaf_certificate_id', 'c.subject as leaf_subject', 'c.not_after as leaf_not_after',
          knex.raw('jsonb_array_length(e.chain_fingerprints)::int as chain_length'), 'e.chain_complete', 'e.name_mismatch',
          'e.first_seen_at', 'e.last_seen_at')
        .orderBy([{ column: 'a.name' }, { column: 'e.host' }, { column: 'e.port' }, { column: 'e.server_name' }])
        .limit(limit).offset(offset) as Promise<EndpointRow[]>,
      base.clone().count({ count: '*' }) as Promise<Array<{ count: string | number }>>,
    ]);
    const toDate = timestampParser(em);
    const items = rows.map((r) => ({
      id: r.id, agentId: r.agent_id, agentName: r.agent_name, host: r.host, port: r.port, serverName: r.server_name || null,
      source: r.source, ok: r.ok, error: r.error, protocol: r.protocol, leafCertificateId: r.leaf_certificate_id,
      leafSubject: r.leaf_subject, leafNotAfter: r.leaf_not_after === null ? null : toDate(r.leaf_not_after).toISOString(),
      chainLength: r.chain_length, chainComplete: r.chain_complete, nameMismatch: r.name_mismatch,
      firstSeenAt: toDate(r.first_seen_at).toISOString(), lastSeenAt: toDate(r.last_seen_at).toISOString(),
    }));
    return { items, total: Number(count), limit, offset };
  });
}
