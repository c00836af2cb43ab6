// Whether an ACME CA that is not saved yet can be used: its directory answers, through the trust PEM it
// was given, with a document that has the required resources. Used by POST /api/v1/cas?check=true before
// anything is written, so an unreachable CA is refused with the CA's own error instead of being added.
import * as acme from 'acme-client';
import type { AcmeConfig } from './acme-config.js';
import { acmeError } from './acme-errors.js';
import { checkDirectory } from './acme-issuer.js';
import { trustForOrigin, withAcmeContext, type AcmeCallContext } from './acme-transport.js';

/** Throws IssuerUnavailableError (or IssuerPolicyError) with the CA's words when the directory cannot be used. */
export async function checkAcmeDirectory(
  caName: string,
  config: Pick<AcmeConfig, 'directoryUrl' | 'trustPem' | 'maxRetryAfterSeconds'>,
  signal?: AbortSignal,
): Promise<void> {
  trustForOrigin(config.directoryUrl, config.trustPem);
  const ctx: AcmeCallContext = { maxRetryAfterMs: config.maxRetryAfterSeconds * 1000, signal };
  try {
    await withAcmeContext(ctx, async () => {
      const res = await acme.axios.get(config.directoryUrl, { signal, validateStatus: null } as Parameters<typeof acme.axios.get>[1]);
      if (res.status !== 200) {
        const detail = typeof res.data?.detail === 'string' ? `: ${res.data.detail}` : '';
        throw new Error(`GET ${config.directoryUrl} answered HTTP ${res.status}${detail}`);
      }
      checkDirectory(config.directoryUrl, res.data);
    });
  } catch (err) {
    throw acmeError(caName, 'directory', err, ctx);
  }
}
