// Original file: proto/certflow/agent/v1/agent.proto

import type { TlsEndpoint as _certflow_agent_v1_TlsEndpoint, TlsEndpoint__Output as _certflow_agent_v1_TlsEndpoint__Output } from '../../../certflow/agent/v1/TlsEndpoint.js';

/**
 * Undo an earlier deploy of this agent: restore its backups, test and reload its targets, and (when
 * expected_fingerprint_sha256 is given) prove the endpoints serve the old certificate again. Refused when
 * the files were changed again since that deploy (a later deploy would be clobbered).
 */
export interface RollbackJob {
  'deployId'?: (string);
  'endpoints'?: (_certflow_agent_v1_TlsEndpoint)[];
  /**
   * The certificate served before the deploy, hex; empty: the endpoints are not checked.
   */
  'expectedFingerprintSha256'?: (string);
}

/**
 * Undo an earlier deploy of this agent: restore its backups, test and reload its targets, and (when
 * expected_fingerprint_sha256 is given) prove the endpoints serve the old certificate again. Refused when
 * the files were changed again since that deploy (a later deploy would be clobbered).
 */
export interface RollbackJob__Output {
  'deployId': (string);
  'endpoints': (_certflow_agent_v1_TlsEndpoint__Output)[];
  /**
   * The certificate served before the deploy, hex; empty: the endpoints are not checked.
   */
  'expectedFingerprintSha256': (string);
}
