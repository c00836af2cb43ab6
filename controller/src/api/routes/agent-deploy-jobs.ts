// Deploy, validate and roll back on one agent by hand: the jobs the workflow's stages create, exposed for
// operators and tests. The agent answers with a structured result (per target what changed, step timings,
// per endpoint what was served, whether it rolled back), read with GET /api/v1/agent-jobs/:id.
import { X509Certificate } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { createAgentJob } from '../../agent-jobs/agent-jobs.js';
import {
  deployJobPayloadSchema, newDeployId, rollbackJobPayloadSchema, validateJobPayloadSchema,
} from '../../agent-jobs/deploy-job-payloads.js';
import { appendAudit } from '../../audit/audit-trail.js';
import { Agent } from '../../db/entities/agent.js';
import type { AgentJobKind } from '../../db/entities/agent-job.js';
import { principalOf, requestEm, requirePermission } from '../auth.js';
import { notFound, problemResponses } from '../problem.js';
import { idParams } from '../schemas.js';
import type { ZodTypeProvider } from '../zod-compiler.js';
import type { AgentRouteDeps } from './agents.js';

const deployBody = deployJobPayloadSchema.extend({
  deployId: deployJobPayloadSchema.shape.deployId.optional().meta({ description: 'Generated when absent; the agent never applies one deploy id twice' }),
  rollbackOnFailure: z.boolean().default(true).meta({ description: 'Roll back on the agent when its validation fails (default true)' }),
});

const deployJobResponse = z.object({ jobId: z.uuid(), kind: z.string(), state: z.string(), deployId: z.string() });
const jobResponse = z.object({ jobId: z.uuid(), kind: z.string(), state: z.string() });

const fingerprintOf = (pem: string) => new X509Certificate(pem).fingerprint256.replaceAll(':', '').toLowerCase();

export function agentDeployJobRoutes(deps: Pick<AgentRouteDeps, 'nats'>) {
  return async (instance: FastifyInstance): Promise<void> => {
    const app = instance.withTypeProvider<ZodTypeProvider>();

    /** Creates the job and its audit entry in one transaction, then wakes the agent's replica. */
    async function queue(request: Parameters<typeof principalOf>[0], kind: AgentJobKind, payload: Record<string, unknown>, audited: Record<string, unknown>) {
      const em = requestEm(request);
      const agentId = (request.params as { id: string }).id;
      const agent = await em.findOne(Agent, { id: agentId });
      if (!agent) throw notFound(`no agent with id ${agentId}`);
      const actor = principalOf(request).name;
      const job = await em.transactional(async (tx) => {
        const created = await createAgentJob(tx, { agentId, kind, payload, requestedBy: actor });
        await appendAudit(tx, { actor: `token:${actor}`, action: `agent.${kind}`, targetType: 'agent', targetId: agentId, after: { jobId: created.id, ...audited } });
        return created;
      });
      const nats = deps.nats();
      nats?.nc.publish(nats.subjects.agentWake(agentId));
      return job;
    }

    app.post('/api/v1/agents/:id/deploy', {
      onRequest: requirePermission('manage-agents'),
      schema: {
        tags: ['agents'],
        summary: 'Deploy a certificate on the agent (its key from the agent\'s key store), test, reload, validate, roll back on failure',
        params: idParams,
        body: deployBody,
        response: { 202: deployJobResponse, ...problemResponses(400, 401, 403, 404) },
      },
    }, async (request, reply) => {
      const payload = { ...request.body, deployId: request.body.deployId ?? newDeployId() };
      // The audit entry names what goes where; the certificate itself is in the job's payload.
      const job = await queue(request, 'deploy', payload, {
        deployId: payload.deployId, keyId: payload.keyId, fingerprintSha256: fingerprintOf(payload.certificatePem),
        targets: payload.targets, endpoints: payload.endpoints, rollbackOnFailure: payload.rollbackOnFailure,
      });
      return reply.code(202).send({ jobId: job.id, kind: job.kind, state: job.state, deployId: payload.deployId });
    });

    app.post('/api/v1/agents/:id/validate', {
      onRequest: requirePermission('manage-agents'),
      schema: {
        tags: ['agents'],
        summary: 'Have the agent check that endpoints serve a certificate (fingerprint, chain, names, validity)',
        params: idParams,
        body: validateJobPayloadSchema,
        response: { 202: jobResponse, ...problemResponses(400, 401, 403, 404) },
      },
    }, async (request, reply) => {
      const job = await queue(request, 'validate', request.body, { endpoints: request.body.endpoints, expectedFingerprintSha256: request.body.expectedFingerprintSha256 });
      return reply.code(202).send({ jobId: job.id, kind: job.kind, state: job.state });
    });

    app.post('/api/v1/agents/:id/rollback', {
      onRequest: requirePermission('manage-agents'),
      schema: {
        tags: ['agents'],
        summary: 'Roll back an earlier deploy of this agent: restore its backups, reload, check the old certificate is served',
        params: idParams,
        body: rollbackJobPayloadSchema,
        response: { 202: jobResponse, ...problemResponses(400, 401, 403, 404) },
      },
    }, async (request, reply) => {
      const job = await queue(request, 'rollback', request.body, { ...request.body });
      return reply.code(202).send({ jobId: job.id, kind: job.kind, state: job.state });
    });
  };
}
