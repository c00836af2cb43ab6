// Original file: proto/certflow/agent/v1/agent.proto

import type { KeyRecipient as _certflow_agent_v1_KeyRecipient, KeyRecipient__Output as _certflow_agent_v1_KeyRecipient__Output } from '../../../certflow/agent/v1/KeyRecipient.js';

/**
 * One key shared by several hosts (template key.multiHost "shared"): the host that made the key encrypts
 * it to each other host's agent identity key, so only those agents can read it; the controller only
 * carries the ciphertext. Refused unless this agent's own config allows it (keys.allowExport).
 */
export interface ExportKeyJob {
  /**
   * The key in this agent's key store (made by a MakeCsrJob).
   */
  'keyId'?: (string);
  /**
   * SHA-256 (hex) of the key's SubjectPublicKeyInfo, as issued in the certificate: the agent checks it.
   */
  'publicKeySha256'?: (string);
  /**
   * Bound into every blob (AAD), so a blob cannot be moved to another run.
   */
  'runId'?: (string);
  'recipients'?: (_certflow_agent_v1_KeyRecipient)[];
}

/**
 * One key shared by several hosts (template key.multiHost "shared"): the host that made the key encrypts
 * it to each other host's agent identity key, so only those agents can read it; the controller only
 * carries the ciphertext. Refused unless this agent's own config allows it (keys.allowExport).
 */
export interface ExportKeyJob__Output {
  /**
   * The key in this agent's key store (made by a MakeCsrJob).
   */
  'keyId': (string);
  /**
   * SHA-256 (hex) of the key's SubjectPublicKeyInfo, as issued in the certificate: the agent checks it.
   */
  'publicKeySha256': (string);
  /**
   * Bound into every blob (AAD), so a blob cannot be moved to another run.
   */
  'runId': (string);
  'recipients': (_certflow_agent_v1_KeyRecipient__Output)[];
}
