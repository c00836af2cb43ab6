// Original file: proto/certflow/agent/v1/agent.proto

import type { Http01Output as _certflow_agent_v1_Http01Output, Http01Output__Output as _certflow_agent_v1_Http01Output__Output } from '../../../certflow/agent/v1/Http01Output.js';

/**
 * A certificate request made on the host; the key it belongs to stays in the agent's key store.
 */
export interface CsrOutput {
  'keyId'?: (string);
  'csrPem'?: (string);
  /**
   * SHA-256 (hex) of the public key's SubjectPublicKeyInfo, to match the issued certificate later.
   */
  'publicKeySha256'?: (string);
  /**
   * When the job asked to serve http-01 tokens too (MakeCsrJob.serve_http01): what is served.
   */
  'http01'?: (_certflow_agent_v1_Http01Output | null);
}

/**
 * A certificate request made on the host; the key it belongs to stays in the agent's key store.
 */
export interface CsrOutput__Output {
  'keyId': (string);
  'csrPem': (string);
  /**
   * SHA-256 (hex) of the public key's SubjectPublicKeyInfo, to match the issued certificate later.
   */
  'publicKeySha256': (string);
  /**
   * When the job asked to serve http-01 tokens too (MakeCsrJob.serve_http01): what is served.
   */
  'http01': (_certflow_agent_v1_Http01Output__Output | null);
}
