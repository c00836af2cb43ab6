// The agents of the fleet: who they are, whether they are online, and what their last scan could not read.
import type { FastifyInstance } from 'fastify';
import type { NatsConnection } from 'nats';
import { Agent, type HostFactsRecord } from '../../db/entities/agent.js';
import { createAgentJob } from '../../agent-jobs/agent-jobs.js';
import { appendAudit } from '../../audit/audit-trail.js';
import type { Subjects } from '../../messaging/subjects.js';
import { principalOf, requestEm, requirePermission } from '../auth.js';
import { timestampParser, type SqlTimestamp } from '../db-rows.js';
import { notFound, problemResponses } from '../problem.js';
import { agentDetail, updateAgentBody, agentJobDetail, agentJobResponse, agentPage, idParams, listAgentsQuery, makeCsrBody, networkScanBody, type AgentSummary } from '../schemas.js';
import { AgentJob } from '../../db/entities/agent-job.js';
import { randomBytes } from 'node:crypto';
import type { ZodTypeProvider } from '../zod-compiler.js';
import { restartAdoptionWalk } from '../../scheduler/adoption.js';

export interface AgentRouteDeps {
  checkInIntervalSeconds: number;
  offlineAfterIntervals: number;
  /** NATS, to wake the replica holding an agent's stream; null while NATS is not connected yet. */
  nats: () => { nc: NatsConnection; subjects: Subjects } | null;
}

/** The columns a list row needs; scan problems are only counted, since one agent may report many. */
interface AgentRow {
  id: string;
  name: string;
  host_facts: HostFactsRecord;
  enrolled_at: SqlTimestamp;
  last_check_in_at: SqlTimestamp | null;
  last_seen_at: SqlTimestamp | null;
  certificate_not_after: SqlTimestamp;
  scan_problem_count: number;
}

interface AgentFields {
  id: string;
  name: string;
  hostFacts: HostFactsRecord;
  enrolledAt: Date;
  lastCheckInAt: Date | null | undefined;
  lastSeenAt: Date | null | undefined;
  certificateNotAfter: Date;
}

export function agentRoutes(deps: AgentRouteDeps) {
  const offlineAfterMs = deps.checkInIntervalSeconds * deps.offlineAfterIntervals * 1000;

  function summary(agent: AgentFields, scanProblemCount: number, now: number): AgentSummary {
    const facts = agent.hostFacts;
    const lastSeenAt = agent.lastSeenAt ?? null;
    return {
      id: agent.id,
      name: agent.name,
      hostname: facts.hostname ?? '',
      os: [facts.osDistro, facts.osRelease].filter(Boolean).join(' '),
      agentVersion: facts.agentVersion ?? '',
      ipAddresses: facts.ipAddresses ?? [],
      enrolledAt: agent.enrolledAt.toISOString(),
      lastCheckInAt: agent.lastCheckInAt?.toISOString() ?? null,
      lastSeenAt: lastSeenAt?.toISOString() ?? null,
      online: lastSeenAt !== null && now - lastSeenAt.getTime() <= offlineAfterMs,
      certificateNotAfter: agent.certificateNotAfter.toISOString(),
      scanProblemCount,
    };
  }

  return async (instance: FastifyInstance): Promise<void> => {
    const app = instance.withTypeProvider<ZodTypeProvider>();

    app.get('/api/v1/agents', {
      onRequest: requirePermission('read'),
      schema: {
        tags: ['agents'],
        summary: 'List agents, by name',
        querystring: listAgentsQuery,
        response: { 200: agentPage, ...problemResponses(400, 401, 403) },
      },
    }, async (request) => {
      const { limit, offset } = request.query;
      const em = requestEm(request);
      const knex = em.getKnex();
      const [rows, [{ count }]] = await Promise.all([
        knex('agents')
          .select('id', 'name', 'host_facts', 'enrolled_at', 'last_check_in_at', 'last_seen_at', 'certificate_not_after',
            knex.raw('jsonb_array_length(scan_problems)::int as scan_problem_count'))
          .orderBy([{ column: 'name' }, { column: 'id' }])
          .limit(limit)
          .offset(offset) as Promise<AgentRow[]>,
        knex('agents').count({ count: '*' }) as Promise<Array<{ count: string | number }>>,
      ]);
      const now = Date.now();
      const toDate = timestampParser(em);
      const items = rows.map((row) => summary({
        id: row.id,
        name: row.name,
        hostFacts: row.host_facts,
        enrolledAt: toDate(row.enrolled_at),
        lastCheckInAt: row.last_check_in_at === null ? null : toDate(row.last_check_in_at),
        lastSeenAt: row.last_seen_at === null ? null : toDate(row.last_seen_at),
        certificateNotAfter: toDate(row.certificate_not_after),
      }, row.scan_problem_count, now));
      return { items, total: Number(count), limit, offset };
    });

    app.get('/api/v1/agents/:id', {
      onRequest: requirePermission('read'),
      schema: {
        tags: ['agents'],
        summary: 'One agent, with the problems of its last scan',
        params: idParams,
        response: { 200: agentDetail, ...problemResponses(400, 401, 403, 404) },
      },
    }, async (request) => {
      const agent = await requestEm(request).findOne(Agent, { id: request.params.id });
      if (!agent) throw notFound(`no agent with id ${request.params.id}`);
      const scanProblems = agent.scanProblems ?? [];
      return { ...summary(agent, scanProblems.length, Date.now()), scanProblems, labels: agent.labels ?? {}, hostGroups: agent.hostGroups ?? [] };
    });

    app.patch('/api/v1/agents/:id', {
      onRequest: requirePermission('manage-agents'),
      schema: {
        tags: ['agents'],
        summary: "Set an agent's labels and host groups (templates adopt the certificates it holds by them)",
        params: idParams,
        body: updateAgentBody,
        response: { 200: agentDetail, ...problemResponses(400, 401, 403, 404) },
      },
    }, async (request) => {
      const em = requestEm(request);
      const actor = principalOf(request).name;
      const agent = await em.transactional(async (tx) => {
        await tx.execute('select id from agents where id = ? for update', [request.params.id]);
        const row = await tx.findOne(Agent, { id: request.params.id });
        if (!row) throw notFound(`no agent with id ${request.params.id}`);
        const before = { labels: row.labels ?? {}, hostGroups: row.hostGroups ?? [] };
        if (request.body.labels) row.labels = request.body.labels;
        if (request.body.hostGroups) row.hostGroups = request.body.hostGroups;
        await tx.flush();
        await appendAudit(tx, { actor: `token:${actor}`, action: 'agent.updated', targetType: 'agent', targetId: row.id, before, after: { labels: row.labels, hostGroups: row.hostGroups } });
        return row;
      });
      // A change of labels may make a template's match rules adopt what this agent holds.
      await restartAdoptionWalk(em);
      const scanProblems = agent.scanProblems ?? [];
      return { ...summary(agent, scanProblems.length, Date.now()), scanProblems, labels: agent.labels ?? {}, hostGroups: agent.hostGroups ?? [] };
    });

    app.post('/api/v1/agents/:id/rescan', {
      onRequest: requirePermission('manage-agents'),
      schema: {
        tags: ['agents'],
        summary: 'Ask an agent to rescan now and send a full inventory',
        params: idParams,
        response: { 202: agentJobResponse, ...problemResponses(400, 401, 403, 404) },
      },
    }, async (request, reply) => {
      const em = requestEm(request);
      const agent = await em.findOne(Agent, { id: request.params.id });
      if (!agent) throw notFound(`no agent with id ${request.params.id}`);
      const actor = principalOf(request).name;
      const job = await em.transactional(async (tx) => {
        const created = await createAgentJob(tx, { agentId: agent.id, kind: 'rescan', requestedBy: actor });
        await appendAudit(tx, { actor: `token:${actor}`, action: 'agent.rescan', targetType: 'agent', targetId: agent.id, after: { jobId: created.id } });
        return created;
      });
      wake(agent.id);
      return reply.code(202).send({ jobId: job.id, kind: job.kind, state: job.state });
    });

    app.put('/api/v1/agents/:id/network-scan', {
      onRequest: requirePermission('manage-agents'),
      schema: {
        tags: ['agents'],
        summary: 'Assign the network ranges and ports this agent probes for TLS endpoints (within what its own config allows)',
        params: idParams,
        body: networkScanBody,
        response: { 202: agentJobResponse, ...problemResponses(400, 401, 403, 404) },
      },
    }, async (request, reply) => {
      const em = requestEm(request);
      const agent = await em.findOne(Agent, { id: request.params.id });
      if (!agent) throw notFound(`no agent with id ${request.params.id}`);
      const assignment = { ranges: request.body.ranges, ports: request.body.ports };
      const before = agent.networkScan ?? null;
      const actor = principalOf(request).name;
      const job = await em.transactional(async (tx) => {
        await tx.nativeUpdate(Agent, { id: agent.id }, { networkScan: assignment });
        const created = await createAgentJob(tx, { agentId: agent.id, kind: 'configureNetworkScan', payload: assignment, requestedBy: actor });
        await appendAudit(tx, { actor: `token:${actor}`, action: 'agent.network-scan', targetType: 'agent', targetId: agent.id, before, after: assignment });
        return created;
      });
      wake(agent.id);
      return reply.code(202).send({ jobId: job.id, kind: job.kind, state: job.state });
    });

    app.post('/api/v1/agents/:id/csr', {
      onRequest: requirePermission('manage-agents'),
      schema: {
        tags: ['agents'],
        summary: 'Have the agent make a key (kept on the host) and a CSR for it; the CSR arrives in the job\'s result',
        params: idParams,
        body: makeCsrBody,
        response: { 202: agentJobResponse, ...problemResponses(400, 401, 403, 404) },
      },
    }, async (request, reply) => {
      const em = requestEm(request);
      const agent = await em.findOne(Agent, { id: request.params.id });
      if (!agent) throw notFound(`no agent with id ${request.params.id}`);
      const { keyId = `k-${randomBytes(8).toString('hex')}`, ...names } = request.body;
      const actor = principalOf(request).name;
      const job = await em.transactional(async (tx) => {
        const created = await createAgentJob(tx, { agentId: agent.id, kind: 'makeCsr', payload: { keyId, ...names }, requestedBy: actor });
        await appendAudit(tx, { actor: `token:${actor}`, action: 'agent.make-csr', targetType: 'agent', targetId: agent.id, after: { jobId: created.id, keyId, ...names } });
        return created;
      });
      wake(agent.id);
      return reply.code(202).send({ jobId: job.id, kind: job.kind, state: job.state });
    });

    app.get('/api/v1/agent-jobs/:id', {
      onRequest: requirePermission('read'),
      schema: {
        tags: ['agents'],
        summary: 'One agent job: its state and, once done, its result or error',
        params: idParams,
        response: { 200: agentJobDetail, ...problemResponses(400, 401, 403, 404) },
      },
    }, async (request) => {
      const job = await requestEm(request).findOne(AgentJob, { id: request.params.id });
      if (!job) throw notFound(`no agent job with id ${request.params.id}`);
      return {
        id: job.id, agentId: job.agent, kind: job.kind, state: job.state, requestedBy: job.requestedBy,
        createdAt: job.createdAt.toISOString(), sentAt: job.sentAt?.toISOString() ?? null, finishedAt: job.finishedAt?.toISOString() ?? null,
        error: job.error ?? null, result: job.result ?? null,
      };
    });
  };

  /** A lost wake-up only delays the job until the agent's next session: the job row is the truth. */
  function wake(agentId: string) {
    const nats = deps.nats();
    nats?.nc.publish(nats.subjects.agentWake(agentId));
  }
}
