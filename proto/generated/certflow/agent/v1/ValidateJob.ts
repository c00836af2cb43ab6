// Original file: proto/certflow/agent/v1/agent.proto

import type { TlsEndpoint as _certflow_agent_v1_TlsEndpoint, TlsEndpoint__Output as _certflow_agent_v1_TlsEndpoint__Output } from '../../../certflow/agent/v1/TlsEndpoint.js';

/**
 * Check now that endpoints serve a certificate: fingerprint, chain, names, validity.
 */
export interface ValidateJob {
  'endpoints'?: (_certflow_agent_v1_TlsEndpoint)[];
  /**
   * SHA-256 of the expected leaf (DER), hex.
   */
  'expectedFingerprintSha256'?: (string);
  'trustedRootsPem'?: (string);
}

/**
 * Check now that endpoints serve a certificate: fingerprint, chain, names, validity.
 */
export interface ValidateJob__Output {
  'endpoints': (_certflow_agent_v1_TlsEndpoint__Output)[];
  /**
   * SHA-256 of the expected leaf (DER), hex.
   */
  'expectedFingerprintSha256': (string);
  'trustedRootsPem': (string);
}
