// The admin API: REST/JSON over Fastify, documented as OpenAPI 3 from the same zod schemas that
// validate requests. This builds the server; main.ts decides where it listens.
import fastifySwagger from '@fastify/swagger';
import type { MikroORM } from '@mikro-orm/postgresql';
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { NatsConnection } from 'nats';
import type { ControllerConfig } from '../config.js';
import type { SecretBox } from '../crypto/master-key.js';
import type { Subjects } from '../messaging/subjects.js';
import type { Logger } from '../log.js';
import { decorateRequests, setRequestEm } from './auth.js';
import { frameworkErrorHandler, registerProblemHandlers } from './problem.js';
import { agentRoutes } from './routes/agents.js';
import { agentDeployJobRoutes } from './routes/agent-deploy-jobs.js';
import { caPublicationRoutes } from './routes/ca-publication.js';
import { caRoutes } from './routes/cas.js';
import { adminTokenRoutes } from './routes/admin-tokens.js';
import { auditRoutes } from './routes/audit.js';
import { certificateRoutes } from './routes/certificates.js';
import { endpointRoutes } from './routes/endpoints.js';
import { findingRoutes } from './routes/findings.js';
import { enrollmentTokenRoutes } from './routes/enrollment-tokens.js';
import { healthRoutes } from './routes/health.js';
import { managedCertificateRoutes } from './routes/managed-certificates.js';
import { runRoutes } from './routes/runs.js';
import { approvalRoutes } from './routes/approvals.js';
import { secretRoutes } from './routes/secrets.js';
import { notificationChannelRoutes } from './routes/notification-channels.js';
import { notificationDeliveryRoutes } from './routes/notification-deliveries.js';
import { subjects as makeSubjects } from '../messaging/subjects.js';
import { templateRoutes } from './routes/templates.js';
import { jsonSerializerCompiler, zodSwaggerTransform, zodValidatorCompiler, type ZodTypeProvider } from './zod-compiler.js';

export interface ApiServerDeps {
  orm: MikroORM;
  log: Logger;
  config: ControllerConfig;
  readiness: () => { database: boolean; nats: boolean; gateway: boolean };
  agentCa: () => { certPem: string; fingerprintSha256: string } | null;
  /** NATS, for waking the replica that holds an agent's stream; null until connected (jobs still wait in Postgres). */
  nats?: () => { nc: NatsConnection; subjects: Subjects } | null;
  /** The master key's box, for the CA routes (revocation, CRLs) and notification channels' secrets; without it they answer 503. */
  box?: SecretBox;
}

export async function createApiServer(deps: ApiServerDeps): Promise<FastifyInstance> {
  const app = Fastify({
    // Typed as Fastify's logger interface so the instance is the plain FastifyInstance callers expect.
    loggerInstance: deps.log.child({ component: 'api' }) as FastifyBaseLogger,
    // The only bodies are small JSON documents; anything bigger is a mistake or an attack.
    bodyLimit: 64 * 1024,
    // A path with a trailing slash is the same resource. Signed approval links carry their token in the
    // path (/approve/:token), longer than the router's default limit of 100 characters per parameter.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 500 },
    frameworkErrors: frameworkErrorHandler,
    // Request ids end up in 500 answers and logs; replicas must not hand out the same ones.
    genReqId: () => randomUUID(),
  });
  app.setValidatorCompiler(zodValidatorCompiler);
  app.setSerializerCompiler(jsonSerializerCompiler);
  registerProblemHandlers(app);
  decorateRequests(app);

  // One EntityManager per request: its identity map is never shared between requests.
  app.addHook('onRequest', async (request) => {
    setRequestEm(request, deps.orm.em.fork());
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'certflow admin API', version: 'v1', description: 'Inventory and enrolment of the certflow controller.' },
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'An admin API token' } },
      },
      // Every route needs a token unless its schema says `security: []`.
      security: [{ bearerAuth: [] }],
    },
    transform: zodSwaggerTransform,
  });

  await app.register(healthRoutes({ readiness: deps.readiness }));
  await app.register(enrollmentTokenRoutes({
    enrollmentTokenDefaultHours: deps.config.enrollmentTokenDefaultHours,
    agentCa: deps.agentCa,
  }));
  await app.register(agentRoutes({
    checkInIntervalSeconds: deps.config.checkInIntervalSeconds,
    offlineAfterIntervals: deps.config.offlineAfterIntervals,
    nats: deps.nats ?? (() => null),
  }));
  await app.register(agentDeployJobRoutes({ nats: deps.nats ?? (() => null) }));
  await app.register(certificateRoutes);
  await app.register(findingRoutes);
  await app.register(endpointRoutes);
  await app.register(auditRoutes);
  await app.register(adminTokenRoutes);
  // Tests build the API with a partial config: fall back to the listen address as main.ts's config would.
  const publicUrl = deps.config.publicUrl ?? `http://${deps.config.apiListen ?? '127.0.0.1:7080'}`;
  await app.register(caRoutes({ box: deps.box ?? null, publicUrl }));
  await app.register(caPublicationRoutes({ box: deps.box ?? null, publicUrl }));
  await app.register(templateRoutes);
  const workflowSubjects = makeSubjects(deps.config.natsPrefix ?? 'certflow');
  await app.register(managedCertificateRoutes({ subjects: workflowSubjects }));
  await app.register(runRoutes({ subjects: workflowSubjects }));
  await app.register(approvalRoutes({ subjects: workflowSubjects, box: deps.box ?? null }));
  await app.register(secretRoutes({ box: deps.box ?? null }));
  await app.register(notificationChannelRoutes({ secretBox: () => deps.box ?? null }));
  await app.register(notificationDeliveryRoutes);

  app.withTypeProvider<ZodTypeProvider>().get('/api/v1/openapi.json', {
    schema: {
      tags: ['meta'],
      summary: 'This document',
      security: [],
      response: { 200: z.looseObject({ openapi: z.string() }) },
    },
  }, async () => app.swagger() as unknown as { openapi: string });

  await app.ready();
  return app;
}
