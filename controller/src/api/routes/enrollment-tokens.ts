// Enrolment tokens: an operator creates one per host to enrol. The answer carries what the agent needs
// to trust the gateway on first contact (the agent CA and its fingerprint), so one command prints a
// complete agent configuration.
import type { FastifyInstance } from 'fastify';
import { createEnrollmentToken } from '../../enrollment/enrollment-tokens.js';
import { principalOf, requestEm, requirePermission } from '../auth.js';
import { appendAudit } from '../../audit/audit-trail.js';
import { problemResponses, unavailable } from '../problem.js';
import { createEnrollmentTokenBody, enrollmentTokenResponse } from '../schemas.js';
import type { ZodTypeProvider } from '../zod-compiler.js';

export interface EnrollmentTokenDeps {
  enrollmentTokenDefaultHours: number;
  agentCa: () => { certPem: string; fingerprintSha256: string } | null;
}

export function enrollmentTokenRoutes(deps: EnrollmentTokenDeps) {
  return async (instance: FastifyInstance): Promise<void> => {
    const app = instance.withTypeProvider<ZodTypeProvider>();

    app.post('/api/v1/enrollment-tokens', {
      onRequest: requirePermission('create-enrollment-token'),
      schema: {
        tags: ['enrollment'],
        summary: 'Create a single-use, expiring enrolment token for one agent',
        body: createEnrollmentTokenBody,
        response: { 201: enrollmentTokenResponse, ...problemResponses(400, 401, 403, 503) },
      },
    }, async (request, reply) => {
      // Without the CA an agent could not pin the gateway, so a token would be useless.
      const ca = deps.agentCa();
      if (!ca) throw unavailable('the agent CA is not loaded yet; try again shortly');
      const body = request.body ?? {};
      const hours = body.expiresInHours ?? deps.enrollmentTokenDefaultHours;
      const principal = principalOf(request);
      const created = await requestEm(request).transactional(async (tx) => {
        const token = await createEnrollmentToken(tx, {
          createdBy: principal.name,
          description: body.description ?? null,
          expiresAt: new Date(Date.now() + hours * 3_600_000),
        });
        await appendAudit(tx, {
          actor: `token:${principal.name}`, action: 'enrollment-token.create', targetType: 'enrollment-token', targetId: token.id,
          after: { description: body.description ?? null, expiresAt: token.expiresAt.toISOString() },
        });
        return token;
      });
      request.log.info({ enrollmentTokenId: created.id, createdBy: principal.name, expiresAt: created.expiresAt },
        'enrolment token created');
      // The token is a secret shown once: keep it out of every cache on the way.
      return reply.code(201).header('cache-control', 'no-store').send({
        id: created.id,
        token: created.token,
        expiresAt: created.expiresAt.toISOString(),
        caFingerprintSha256: ca.fingerprintSha256,
        caPem: ca.certPem,
      });
    });
  };
}
