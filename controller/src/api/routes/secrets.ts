// Named secrets (admins only): set, list names, delete. Values go in and are never given back.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { SecretBox } from '../../crypto/master-key.js';
import { deleteUserSecret, listUserSecrets, putUserSecret, SECRET_NAME_PATTERN } from '../../secrets/user-secrets.js';
import { principalOf, requestEm, requirePermission } from '../auth.js';
import { HttpProblem, notFound, problemResponses } from '../problem.js';
import type { ZodTypeProvider } from '../zod-compiler.js';

const nameParams = z.strictObject({ name: z.string().regex(SECRET_NAME_PATTERN, 'expected a lower-case name: letters, digits, . _ -') });
const secretSummary = z.object({ name: z.string(), createdAt: z.string(), updatedAt: z.string() });

export function secretRoutes(deps: { box: SecretBox | null }) {
  return async (instance: FastifyInstance): Promise<void> => {
    const app = instance.withTypeProvider<ZodTypeProvider>();
    const box = () => {
      if (!deps.box) throw new HttpProblem(503, 'unavailable', 'Service unavailable', 'secrets need the master key');
      return deps.box;
    };

    app.get('/api/v1/secrets', {
      onRequest: requirePermission('manage-secrets'),
      schema: { tags: ['secrets'], summary: 'Names of the stored secrets (never their values)', response: { 200: z.object({ items: z.array(secretSummary) }), ...problemResponses(401, 403) } },
    }, async (request) => ({
      items: (await listUserSecrets(requestEm(request))).map((s) => ({ name: s.name, createdAt: s.createdAt.toISOString(), updatedAt: s.updatedAt.toISOString() })),
    }));

    app.put('/api/v1/secrets/:name', {
      onRequest: requirePermission('manage-secrets'),
      schema: {
        tags: ['secrets'], summary: 'Set a secret (sealed with the master key; e.g. a PKCS#12 keystore password a template names)',
        params: nameParams, body: z.strictObject({ value: z.string().min(1).max(4096) }),
        response: { 200: z.object({ name: z.string(), result: z.enum(['created', 'updated']) }), ...problemResponses(400, 401, 403, 503) },
      },
    }, async (request) => {
      const result = await putUserSecret(requestEm(request), box(), { name: request.params.name, value: request.body.value, actor: `token:${principalOf(request).tokenId}` });
      return { name: request.params.name, result };
    });

    app.delete('/api/v1/secrets/:name', {
      onRequest: requirePermission('manage-secrets'),
      schema: { tags: ['secrets'], summary: 'Delete a secret', params: nameParams, response: { 200: z.object({ name: z.string(), deleted: z.literal(true) }), ...problemResponses(400, 401, 403, 404) } },
    }, async (request) => {
      if (!await deleteUserSecret(requestEm(request), { name: request.params.name, actor: `token:${principalOf(request).tokenId}` })) {
        throw notFound(`no secret named "${request.params.name}"`);
      }
      return { name: request.params.name, deleted: true as const };
    });
  };
}
