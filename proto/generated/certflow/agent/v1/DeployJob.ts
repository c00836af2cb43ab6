// Original file: proto/certflow/agent/v1/agent.proto

import type { DeployTargetSpec as _certflow_agent_v1_DeployTargetSpec, DeployTargetSpec__Output as _certflow_agent_v1_DeployTargetSpec__Output } from '../../../certflow/agent/v1/DeployTargetSpec.js';
import type { TlsEndpoint as _certflow_agent_v1_TlsEndpoint, TlsEndpoint__Output as _certflow_agent_v1_TlsEndpoint__Output } from '../../../certflow/agent/v1/TlsEndpoint.js';
import type { EncryptedKey as _certflow_agent_v1_EncryptedKey, EncryptedKey__Output as _certflow_agent_v1_EncryptedKey__Output } from '../../../certflow/agent/v1/EncryptedKey.js';

/**
 * Put a certificate in place: check it against its key and names, write the targets' files atomically
 * (backups kept), test the services' configs, reload them, then validate every endpoint. On a failure
 * after the first file was replaced the agent rolls back (always for a failed config test or reload;
 * for a failed validation only when rollback_on_failure is set).
 */
export interface DeployJob {
  /**
   * Chosen by the controller. A deploy id the agent has already applied is never applied again: the
   * earlier result comes back (with DeployOutput.repeated set).
   */
  'deployId'?: (string);
  /**
   * The key in the agent's key store (made by a MakeCsrJob). The key itself never travels.
   */
  'keyId'?: (string);
  /**
   * The leaf alone, and the intermediates (leaf's issuer first).
   */
  'certificatePem'?: (string);
  'chainPem'?: (string);
  'targets'?: (_certflow_agent_v1_DeployTargetSpec)[];
  'endpoints'?: (_certflow_agent_v1_TlsEndpoint)[];
  /**
   * The issuing CA's root(s): the served chain must verify to them (empty: the public roots Node knows).
   */
  'trustedRootsPem'?: (string);
  'rollbackOnFailure'?: (boolean);
  /**
   * PKCS#12 targets only: the keystore password, opened from a controller secret when the job is sent.
   * The agent uses it for this deploy only and never stores or reports it.
   */
  'pkcs12Password'?: (string);
  /**
   * A key shared by several hosts, made on another host and encrypted to this agent's identity key: the
   * agent decrypts it, checks it belongs to certificate_pem, and stores it under key_id (0600) first.
   */
  'encryptedKey'?: (_certflow_agent_v1_EncryptedKey | null);
}

/**
 * Put a certificate in place: check it against its key and names, write the targets' files atomically
 * (backups kept), test the services' configs, reload them, then validate every endpoint. On a failure
 * after the first file was replaced the agent rolls back (always for a failed config test or reload;
 * for a failed validation only when rollback_on_failure is set).
 */
export interface DeployJob__Output {
  /**
   * Chosen by the controller. A deploy id the agent has already applied is never applied again: the
   * earlier result comes back (with DeployOutput.repeated set).
   */
  'deployId': (string);
  /**
   * The key in the agent's key store (made by a MakeCsrJob). The key itself never travels.
   */
  'keyId': (string);
  /**
   * The leaf alone, and the intermediates (leaf's issuer first).
   */
  'certificatePem': (string);
  'chainPem': (string);
  'targets': (_certflow_agent_v1_DeployTargetSpec__Output)[];
  'endpoints': (_certflow_agent_v1_TlsEndpoint__Output)[];
  /**
   * The issuing CA's root(s): the served chain must verify to them (empty: the public roots Node knows).
   */
  'trustedRootsPem': (string);
  'rollbackOnFailure': (boolean);
  /**
   * PKCS#12 targets only: the keystore password, opened from a controller secret when the job is sent.
   * The agent uses it for this deploy only and never stores or reports it.
   */
  'pkcs12Password': (string);
  /**
   * A key shared by several hosts, made on another host and encrypted to this agent's identity key: the
   * agent decrypts it, checks it belongs to certificate_pem, and stores it under key_id (0600) first.
   */
  'encryptedKey': (_certflow_agent_v1_EncryptedKey__Output | null);
}
