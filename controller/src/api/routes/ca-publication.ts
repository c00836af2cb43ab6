// What relying parties fetch without any credentials: each internal CA's CRL (DER, signed by its
// intermediate) and its certificates (intermediate then root, PEM). Certificates the CA issues name the
// CRL's URL, so TLS clients anywhere must be able to reach it.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { SecretBox } from '../../crypto/master-key.js';
import { InternalIssuer } from '../../issuers/internal/internal-issuer.js';
import { loadIssuer, UnknownIssuerError } from '../../issuers/issuer-registry.js';
import { requestEm } from '../auth.js';
import { caFileParams } from '../ca-schemas.js';
import { notFound, problemResponses, unavailable } from '../problem.js';
import type { ZodTypeProvider } from '../zod-compiler.js';

export interface CaPublicationDeps {
  box: SecretBox | null;
  publicUrl: string;
}

/** Relying parties may cache for this long; a revocation shows within it (the CRL itself says +24 h). */
const MAX_AGE_SECONDS = 60;

export function caPublicationRoutes(deps: CaPublicationDeps) {
  return async (instance: FastifyInstance): Promise<void> => {
    const app = instance.withTypeProvider<ZodTypeProvider>();

    async function internalCa(request: Parameters<typeof requestEm>[0], file: string, extension: string): Promise<InternalIssuer> {
      if (!file.endsWith(extension)) throw notFound(`no such file: expected <ca-name>${extension}`);
      if (!deps.box) throw unavailable('this controller has no master key loaded, so it cannot open its CAs');
      const name = file.slice(0, -extension.length);
      try {
        const issuer = await loadIssuer(requestEm(request), deps.box, name, { publicUrl: deps.publicUrl });
        if (issuer instanceof InternalIssuer) return issuer;
      } catch (err) {
        if (!(err instanceof UnknownIssuerError)) throw err;
      }
      throw notFound(`certflow publishes nothing for a CA named "${name}"`);
    }

    app.get('/crl/:file', {
      schema: {
        tags: ['cas'], summary: 'The CRL of an internal CA (DER, application/pkix-crl), e.g. /crl/builtin.crl',
        security: [], params: caFileParams,
        response: { 200: z.any().meta({ description: 'DER (application/pkix-crl)' }), ...problemResponses(404, 503) },
      },
    }, async (request, reply) => {
      const issuer = await internalCa(request, request.params.file, '.crl');
      const der = await issuer.crl();
      return reply.type('application/pkix-crl').header('cache-control', `public, max-age=${MAX_AGE_SECONDS}`).send(der);
    });

    app.get('/ca/:file', {
      schema: {
        tags: ['cas'], summary: 'The certificates of an internal CA: intermediate then root (PEM), e.g. /ca/builtin.pem',
        security: [], params: caFileParams,
        response: { 200: z.any().meta({ description: 'PEM (application/pem-certificate-chain)' }), ...problemResponses(404, 503) },
      },
    }, async (request, reply) => {
      const issuer = await internalCa(request, request.params.file, '.pem');
      return reply.type('application/pem-certificate-chain').header('cache-control', `public, max-age=${MAX_AGE_SECONDS}`)
        .send(await issuer.caChainPem());
    });
  };
}
