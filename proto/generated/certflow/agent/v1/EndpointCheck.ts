// Original file: proto/certflow/agent/v1/agent.proto

import type { TlsEndpoint as _certflow_agent_v1_TlsEndpoint, TlsEndpoint__Output as _certflow_agent_v1_TlsEndpoint__Output } from '../../../certflow/agent/v1/TlsEndpoint.js';

/**
 * What one endpoint served when it was validated.
 */
export interface EndpointCheck {
  'endpoint'?: (_certflow_agent_v1_TlsEndpoint | null);
  'ok'?: (boolean);
  /**
   * Empty when ok; else "unreachable", "fingerprint", "chain", "names" or "validity".
   */
  'failure'?: (string);
  'reason'?: (string);
  /**
   * SHA-256 (hex) of the leaf served at the last attempt; empty when none was.
   */
  'servedFingerprintSha256'?: (string);
  'attempts'?: (number);
  'ms'?: (number);
}

/**
 * What one endpoint served when it was validated.
 */
export interface EndpointCheck__Output {
  'endpoint': (_certflow_agent_v1_TlsEndpoint__Output | null);
  'ok': (boolean);
  /**
   * Empty when ok; else "unreachable", "fingerprint", "chain", "names" or "validity".
   */
  'failure': (string);
  'reason': (string);
  /**
   * SHA-256 (hex) of the leaf served at the last attempt; empty when none was.
   */
  'servedFingerprintSha256': (string);
  'attempts': (number);
  'ms': (number);
}
