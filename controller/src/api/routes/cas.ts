// Certificate authorities: the list (with each CA's policy and health) and revocation. Listing is a read;
// revoking is for admins only and is audited in the same transaction as the revocation.
import type { FastifyInstance } from 'fastify';
import type { SecretBox } from '../../crypto/master-key.js';
import { appendAudit } from '../../audit/audit-trail.js';
import { AcmeIssuer } from '../../issuers/acme/acme-issuer.js';
import { InternalIssuer, chainPath, crlPath } from '../../issuers/internal/internal-issuer.js';
import { UnknownSerialError } from '../../issuers/issued-records.js';
import { isHealthChecked, IssuerPolicyError, IssuerUnavailableError } from '../../issuers/issuer.js';
import { listCertificateAuthorities, loadIssuer, UnknownIssuerError } from '../../issuers/issuer-registry.js';
import { principalOf, requestEm, requirePermission } from '../auth.js';
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
        let health = { healthy: false, detail: 'no health check for this kind of CA' };
        let internal = false;
        try {
          const issuer = await loadIssuer(em, box, ca.name, { publicUrl: deps.publicUrl });
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
        return {
          name: ca.name, kind: ca.kind, disabled: ca.disabled, createdAt: ca.createdAt.toISOString(), policy: ca.policy,
          config: ca.config, health,
          crlUrl: internal ? deps.publicUrl + crlPath(ca.name) : null,
          chainUrl: internal ? deps.publicUrl + chainPath(ca.name) : null,
        };
      }));
      return { items };
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
