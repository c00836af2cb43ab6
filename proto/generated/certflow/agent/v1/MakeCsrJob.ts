// Original file: proto/certflow/agent/v1/agent.proto

import type { Http01ChallengeJob as _certflow_agent_v1_Http01ChallengeJob, Http01ChallengeJob__Output as _certflow_agent_v1_Http01ChallengeJob__Output } from '../../../certflow/agent/v1/Http01ChallengeJob.js';

/**
 * Make a new key on the host (kept in the agent's key store, mode 0600) and a CSR for it.
 */
export interface MakeCsrJob {
  /**
   * Names the key in the store: [a-z0-9-], at most 64 characters.
   */
  'keyId'?: (string);
  /**
   * "ecdsa-p256", "ecdsa-p384", "rsa-2048", "rsa-3072" or "rsa-4096".
   */
  'keyType'?: (string);
  'commonName'?: (string);
  'dnsNames'?: (string)[];
  'ipAddresses'?: (string)[];
  /**
   * An ACME order placed before the key (http-01 answered by this agent): the agent first serves these
   * tokens (as an Http01Challenge "start" job would), then makes the key and CSR, and answers both in
   * CsrOutput. One round trip for the key, the CSR and the challenge. A refused start fails the job.
   */
  'serveHttp01'?: (_certflow_agent_v1_Http01ChallengeJob | null);
}

/**
 * Make a new key on the host (kept in the agent's key store, mode 0600) and a CSR for it.
 */
export interface MakeCsrJob__Output {
  /**
   * Names the key in the store: [a-z0-9-], at most 64 characters.
   */
  'keyId': (string);
  /**
   * "ecdsa-p256", "ecdsa-p384", "rsa-2048", "rsa-3072" or "rsa-4096".
   */
  'keyType': (string);
  'commonName': (string);
  'dnsNames': (string)[];
  'ipAddresses': (string)[];
  /**
   * An ACME order placed before the key (http-01 answered by this agent): the agent first serves these
   * tokens (as an Http01Challenge "start" job would), then makes the key and CSR, and answers both in
   * CsrOutput. One round trip for the key, the CSR and the challenge. A refused start fails the job.
   */
  'serveHttp01': (_certflow_agent_v1_Http01ChallengeJob__Output | null);
}
