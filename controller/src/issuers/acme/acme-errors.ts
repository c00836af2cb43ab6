// What an ACME failure means for the workflow. The CA's own words (its problem document's detail) are
// kept in the message. Refusals another attempt would meet again (the CA rejects a name, CAA forbids it,
// the CSR is bad, the challenge failed) are IssuerPolicyError: the run fails with that text. The CA being
// unreachable, overloaded, rate-limiting, misconfigured or refusing the account is IssuerUnavailableError:
// the run may fall back to the next CA of the template, or retry later.
import { IssuerPolicyError, IssuerUnavailableError } from '../issuer.js';
import { AcmeRateLimitedError, type AcmeCallContext } from './acme-transport.js';

/** The challenge of an authorization did not validate; the message carries the CA's reason. */
export class AcmeChallengeError extends IssuerPolicyError {
  override name = 'AcmeChallengeError';
}

/** Where in the ACME exchange the failure happened: decides what a bare `unauthorized` means. */
export type AcmeStep = 'directory' | 'account' | 'order' | 'challenge' | 'finalize' | 'certificate' | 'revocation' | 'renewal info';

const ACME_ERROR = 'urn:ietf:params:acme:error:';
/** Problem types that mean "this request will not be granted, here or by retrying". */
const REFUSALS = new Set(['rejectedIdentifier', 'unsupportedIdentifier', 'caa', 'badCSR', 'badPublicKey', 'badSignatureAlgorithm',
  'malformed', 'badRevocationReason', 'alreadyRevoked', 'orderNotReady']);
/** Problem types of a failed validation. */
const VALIDATION = new Set(['incorrectResponse', 'dns', 'connection', 'tls', 'unauthorized']);

export function acmeError(caName: string, step: AcmeStep, err: unknown, ctx: AcmeCallContext): Error {
  if (err instanceof IssuerPolicyError || err instanceof IssuerUnavailableError) return err;
  const prefix = `CA "${caName}" (ACME ${step})`;
  if (err instanceof AcmeRateLimitedError) return new IssuerUnavailableError(`${prefix}: ${err.message}`, { cause: err });
  if ((err as Error)?.name === 'AbortError') return err as Error;
  const message = (err as Error)?.message ?? String(err);
  const problem = ctx.lastProblem;
  // A message that is the problem's detail: the CA answered with an error document.
  if (problem && (message === problem.detail.replace(/\n/g, '') || message.startsWith(problem.detail.slice(0, 40)))) {
    const type = problem.type?.startsWith(ACME_ERROR) ? problem.type.slice(ACME_ERROR.length) : problem.type ?? `HTTP ${problem.status}`;
    const text = `${prefix}: ${problem.detail} [${type}]`;
    if (problem.status === 429 || type === 'rateLimited') {
      const until = problem.retryAfter ? ` (retry after ${problem.retryAfter.toISOString()})` : '';
      return new IssuerUnavailableError(text + until, { cause: err });
    }
    if (REFUSALS.has(type)) return new IssuerPolicyError(text, { cause: err });
    if (step === 'challenge' && VALIDATION.has(type)) return new AcmeChallengeError(text, { cause: err });
    return new IssuerUnavailableError(text, { cause: err });
  }
  if (ctx.lastNetworkError && !problem) {
    return new IssuerUnavailableError(`${prefix}: cannot reach the CA: ${ctx.lastNetworkError}`, { cause: err });
  }
  return new IssuerUnavailableError(`${prefix}: ${message}`, { cause: err });
}

/** The error is the CA's answer with this problem type (e.g. `orderNotReady`), as acmeError words it. */
export function isAcmeProblem(err: unknown, type: string): boolean {
  return err instanceof Error && err.message.endsWith(`[${type}]`);
}
