// The contract between the workflow (select-ca and issue stages) and the certificate authorities.
// An issuer turns a CSR made on the agent's host into a certificate; the controller never sees the key.
// Optional abilities (health, revocation, renewal info) are separate interfaces, so an issuer
// implements only what its CA can do and callers ask with the type guards below.

export interface IssueRequest {
  /** PKCS#10, PEM. Made on the agent's host; the controller never sees the key. */
  csrPem: string;
  /** Names the certificate must carry: the CSR must request exactly these (its CN, if any, among them). */
  dnsNames: string[];
  ipAddresses?: string[];
  /** Requested; capped by the CA's policy. */
  validityDays?: number;
  /** Stored before issuing: the same key again returns the same certificate, never a second one. */
  idempotencyKey: string;
  /**
   * The certificate this one renews, PEM, if any: an ACME CA offering ARI (RFC 9773) is told through the
   * order's `replaces`, so the renewal does not count against its rate limits.
   */
  replacesCertificatePem?: string;
  /**
   * Who answers http-01 challenges for this request (the target host's agent). Needed only by CAs that
   * validate with http-01; others ignore it.
   */
  http01Responder?: Http01Responder;
}

/** Serves `keyAuthorization` at http://NAME/.well-known/acme-challenge/TOKEN until cleanup. */
export interface Http01Responder {
  present(token: string, keyAuthorization: string, signal?: AbortSignal): Promise<void>;
  cleanup(token: string): Promise<void>;
}

export interface IssuedCertificate {
  certificatePem: string;
  /** Intermediates, leaf's issuer first; the root is published separately (GET /ca/<name>.pem). */
  chainPem: string;
  /** Lowercase hex, as `openssl x509 -serial` prints it (less the case). */
  serialHex: string;
  notBefore: Date;
  notAfter: Date;
  /** SHA-256 of the certificate's DER, lowercase hex without separators. */
  fingerprintSha256: string;
}

export interface Issuer {
  readonly name: string;
  readonly kind: 'internal' | 'acme';
  issue(req: IssueRequest, signal?: AbortSignal): Promise<IssuedCertificate>;
}

export interface HealthCheckedIssuer extends Issuer {
  health(signal?: AbortSignal): Promise<{ healthy: boolean; detail: string }>;
}

export interface RevokingIssuer extends Issuer {
  revoke(serialHex: string, reason?: string): Promise<void>;
}

/** The CA's suggested renewal window for a certificate (ACME ARI, RFC 9773). */
export interface RenewalInfo {
  suggestedWindow: { start: Date; end: Date };
  explanationUrl?: string;
  /** Ask again no earlier than this (the CA's Retry-After). */
  retryAfter: Date;
}

export interface RenewalInfoIssuer extends Issuer {
  /** The window, or null when the CA does not offer renewal information. */
  renewalInfo(certificatePem: string, signal?: AbortSignal): Promise<RenewalInfo | null>;
}

/** Where the target host's agent answers http-01: a port it listens on, or files under a webroot. */
export interface AgentHttp01Setup {
  /** The port the CA connects to (80 in production; a test CA may name another). */
  port: number;
  /** The address the agent binds (empty: every address). */
  bindAddress?: string;
  /** When set, the agent writes the tokens under this webroot instead of listening. */
  webroot?: string;
  /** How long the agent serves the tokens at most. */
  serveSeconds: number;
}

/** One token the CA will fetch at http://IDENTIFIER/.well-known/acme-challenge/TOKEN. */
export interface PendingHttp01Challenge {
  identifier: string;
  token: string;
  keyAuthorization: string;
}

/**
 * An issuer the workflow drives in steps, because an agent answers its challenges while the stage waits:
 * `prepare` places (or resumes: the order is kept per idempotency key) the order and returns the
 * challenges to serve; once they are served, `complete` asks the CA to validate, finalizes and returns
 * the certificate (recorded once per idempotency key, like `issue`). `agentHttp01` says whether this CA
 * needs that at all (null: `issue` alone works, e.g. dns-01).
 */
export interface StagedIssuer extends Issuer {
  agentHttp01(): Promise<AgentHttp01Setup | null>;
  prepare(req: IssueRequest, signal?: AbortSignal): Promise<{ challenges: PendingHttp01Challenge[] }>;
  complete(req: IssueRequest, signal?: AbortSignal): Promise<IssuedCertificate>;
}

/** The CSR or the names are not allowed by the CA's policy (or are malformed): the run fails with this text. */
export class IssuerPolicyError extends Error {
  override name = 'IssuerPolicyError';
}

/** The CA cannot be reached or is unhealthy: the run may fall back to the next CA. */
export class IssuerUnavailableError extends Error {
  override name = 'IssuerUnavailableError';
}

/** The idempotency key was already used for a different request. */
export class IdempotencyConflictError extends IssuerPolicyError {
  override name = 'IdempotencyConflictError';
}

export function isHealthChecked(issuer: Issuer): issuer is HealthCheckedIssuer {
  return typeof (issuer as Partial<HealthCheckedIssuer>).health === 'function';
}

export function isRevoking(issuer: Issuer): issuer is RevokingIssuer {
  return typeof (issuer as Partial<RevokingIssuer>).revoke === 'function';
}

export function hasRenewalInfo(issuer: Issuer): issuer is RenewalInfoIssuer {
  return typeof (issuer as Partial<RenewalInfoIssuer>).renewalInfo === 'function';
}

export function isStaged(issuer: Issuer): issuer is StagedIssuer {
  const staged = issuer as Partial<StagedIssuer>;
  return typeof staged.prepare === 'function' && typeof staged.complete === 'function' && typeof staged.agentHttp01 === 'function';
}
