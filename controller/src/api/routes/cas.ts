// Certificate authorities: the list (with each CA's policy and health), adding and changing ACME CAs, and
// revocation. Listing is a read; the rest is for admins only and is audited in the same transaction as
// the change. Secrets (EAB HMAC key, TSIG secret) go in and never come back out.
import type { EntityManager } from '@mikro-orm/postgresql';
import type { FastifyInstance } from 'fastify';
import type { SecretBox } from '../../crypto/master-key.js';
import { appendAudit } from '../../audit/audit-trail.js';
import { checkAcmeDirectory } from '../../issuers/acme/acme-directory-check.js';
import { AcmeIssuer } from '../../issuers/acme/acme-issuer.js';
import { CaConflictError, CaInvalidError, createAcmeCa, updateCa, type SavedCa } from '../../issuers/ca-admin.js';
import { InternalIssuer, chainPath, crlPath } from '../../issuers/internal/internal-issuer.js';
import { UnknownSerialError } from '../../issuers/issued-records.js';
import { isHealthChecked, IssuerPolicyError, IssuerUnavailableError } from '../../issuers/issuer.js';
import { listCertificateAuthorities, loadIssuer, UnknownIssuerError } from '../../issuers/issuer-registry.js';
import { principalOf, requestEm, requirePermission } from '../auth.js';
import { caSaved, createCaBody, createCaQuery, updateCaBody, type CaSaved } from '../ca-admin-schemas.js';
import { caList, caNameParams, revocationResponse, revokeBody } from '../ca-schemas.js';
import { HttpProblem, notFound, problemResponses, unavailable } from '../problem.js';
import type { ZodTypeProvider } from '../zod-compiler.js';

export interface CaRouteDeps {
  /** The master key's box; null when the API runs without one (then these routes answer 503). */
  box: SecretBox | null;
  publicUrl: string;
}

/** A health check that does not answer in time counts as unhealthy, so one slow CA cannot stall the list. */
const HEALTH_TIMEOUT_MS = 5_000;

/** The CA's health (a CA that cannot be loaded or checked is unhealthy, saying why) and whether it is the built-in kind. */
async function healthOf(em: EntityManager, box: SecretBox, name: string, publicUrl: string) {
  let health = { healthy: false, detail: 'no health check for this kind of CA' };
  let internal = false;
  try {
    const issuer = await loadIssuer(em, box, name, { publicUrl });
    internal = issuer instanceof InternalIssuer;
    if (isHealthChecked(issuer)) {
      const signal = AbortSignal.timeout(HEALTH_TIMEOUT_MS);
      health = await Promise.race([
        issuer.health(signal),
        new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(new Error(`no answer within ${HEALTH_TIMEOUT_MS} ms`)))),
      ]);
    }
  } catch (err) {
    health = { healthy: false, detail: (err as Error).message };
  }
  return { health, internal };
}

function savedResponse(ca: SavedCa, health: CaSaved['health']): CaSaved {
  return {
    name: ca.name, kind: ca.kind, disabled: ca.disabled, createdAt: ca.createdAt.toISOString(), policy: ca.policy,
    config: ca.config, secretsSet: ca.secretsSet, result: ca.result, health,
  };
}

/** The admin module's refusals as problems; anything else is rethrown. */
function adminProblem(err: unknown): never {
  if (err instanceof UnknownIssuerError) throw notFound(err.message);
  if (err instanceof CaConflictError) throw new HttpProblem(409, 'conflict', 'Conflict', err.message);
  if (err instanceof CaInvalidError) throw new HttpProblem(400, 'invalid-request', 'Invalid request', `body parameter "${err.field}": ${err.message}`);
  throw err;
}

export function caRoutes(deps: CaRouteDeps) {
  return async (instance: FastifyInstance): Promise<void> => {
    const app = instance.withTypeProvider<ZodTypeProvider>();
    const needBox = () => {
      if (!deps.box) throw unavailable('this controller has no master key loaded, so it cannot open its CAs');
      return deps.box;
    };

    app.get('/api/v1/cas', {
      onRequest: requirePermission('read'),
      schema: {
        tags: ['cas'], summary: 'Every certificate authority, with its policy and health',
        response: { 200: caList, ...problemResponses(401, 403, 503) },
      },
    }, async (request) => {
      const box = needBox();
      const em = requestEm(request);
      const cas = await listCertificateAuthorities(em);
      const items = await Promise.all(cas.map(async (ca) => {
        const { health, internal } = await healthOf(em, box, ca.name, deps.publicUrl);
        return {
          name: ca.name, kind: ca.kind, disabled: ca.disabled, createdAt: ca.createdAt.toISOString(), policy: ca.policy,
          config: ca.config, health,
          crlUrl: internal ? deps.publicUrl + crlPath(ca.name) : null,
          chainUrl: internal ? deps.publicUrl + chainPath(ca.name) : null,
        };
      }));
      return { items };
    });

    app.post('/api/v1/cas', {
      onRequest: requirePermission('manage-cas'),
      schema: {
        tags: ['cas'], summary: 'Add an ACME CA (its secrets are sealed and never returned); ?check=true fetches its directory first',
        querystring: createCaQuery, body: createCaBody,
        response: { 201: caSaved, ...problemResponses(400, 401, 403, 409, 422, 503) },
      },
    }, async (request, reply) => {
      const box = needBox();
      const { name, config, policy, disabled } = request.body;
      if (request.query.check) {
        try {
          await checkAcmeDirectory(name, { directoryUrl: config.directoryUrl, trustPem: config.trustPem, maxRetryAfterSeconds: config.maxRetryAfterSeconds },
            AbortSignal.timeout(HEALTH_TIMEOUT_MS));
        } catch (err) {
          throw new HttpProblem(422, 'ca-check-failed', 'The CA cannot be used', (err as Error).message);
        }
      }
      const actor = `token:${principalOf(request).name}`;
      const saved = await createAcmeCa(requestEm(request), box, { name, config, policy, disabled, actor }).catch(adminProblem);
      // Account registration (part of health) only after the CA is saved: the account is sealed under its name.
      const health = request.query.check ? (await healthOf(requestEm(request), box, name, deps.publicUrl)).health : null;
      return reply.code(201).send(savedResponse(saved, health));
    });

    app.put('/api/v1/cas/:name', {
      onRequest: requirePermission('manage-cas'),
      schema: {
        tags: ['cas'], summary: 'Change a CA: ACME config (secrets left out are kept), policy, disabled; a CA\'s kind never changes',
        params: caNameParams, body: updateCaBody,
        response: { 200: caSaved, ...problemResponses(400, 401, 403, 404, 409, 503) },
      },
    }, async (request) => {
      const box = needBox();
      const actor = `token:${principalOf(request).name}`;
      const saved = await updateCa(requestEm(request), box, request.params.name, { ...request.body, actor }).catch(adminProblem);
      return savedResponse(saved, null);
    });

    app.post('/api/v1/cas/:name/revoke', {
      onRequest: requirePermission('manage-cas'),
      schema: {
        tags: ['cas'], summary: 'Revoke a certificate the CA issued; it is listed in the CA\'s CRL from now on',
        params: caNameParams, body: revokeBody,
        response: { 200: revocationResponse, ...problemResponses(400, 401, 403, 404, 409, 503) },
      },
    }, async (request) => {
      const box = needBox();
      const { name } = request.params;
      const { serial, reason } = request.body;
      const actor = `token:${principalOf(request).name}`;
      try {
        return await requestEm(request).transactional(async (tx) => {
          const issuer = await loadIssuer(tx, box, name, { publicUrl: deps.publicUrl });
          // An ACME CA revokes at the CA first (signed with the account key), then records it.
          if (!(issuer instanceof InternalIssuer || issuer instanceof AcmeIssuer)) {
            throw new HttpProblem(409, 'conflict', 'Conflict', `CA "${name}" (${issuer.kind}) cannot revoke through certflow yet`);
          }
          const result = await issuer.revokeCertificate(serial, reason);
          if (!result.alreadyRevoked) {
            await appendAudit(tx, {
              actor, action: 'certificate.revoked', targetType: 'certificate-serial', targetId: `${name}:${result.serialHex}`,
              after: { ca: name, serial: result.serialHex, reason: result.reason, revokedAt: result.revokedAt.toISOString() },
            });
          }
          return { ca: name, serial: result.serialHex, revokedAt: result.revokedAt.toISOString(), reason: result.reason, alreadyRevoked: result.alreadyRevoked };
        });
      } catch (err) {
        if (err instanceof UnknownIssuerError || err instanceof UnknownSerialError) throw notFound(err.message);
        if (err instanceof IssuerPolicyError) throw new HttpProblem(400, 'invalid-request', 'Invalid request', err.message);
        if (err instanceof IssuerUnavailableError) throw unavailable(err.message);
        throw err;
      }
    });
  };
}
