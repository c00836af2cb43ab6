// Liveness and readiness probes. No authentication: load balancers and orchestrators call them.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from '../zod-compiler.js';
import { healthResponse, readinessResponse } from '../schemas.js';

export interface HealthDeps {
  readiness: () => { database: boolean; nats: boolean; gateway: boolean };
}

export function healthRoutes(deps: HealthDeps) {
  return async (instance: FastifyInstance): Promise<void> => {
    const app = instance.withTypeProvider<ZodTypeProvider>();

    app.get('/healthz', {
      schema: { tags: ['health'], summary: 'The process is alive', security: [], response: { 200: healthResponse } },
    }, async () => ({ status: 'ok' as const }));

    app.get('/readyz', {
      schema: {
        tags: ['health'],
        summary: 'The replica can serve: its database and NATS connections are up and its agent gateway listens',
        security: [],
        response: { 200: readinessResponse, 503: readinessResponse },
      },
    }, async (_request, reply) => {
      const { database, nats, gateway } = deps.readiness();
      const ready = database && nats && gateway;
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not-ready', database, nats, gateway });
    });
  };
}
