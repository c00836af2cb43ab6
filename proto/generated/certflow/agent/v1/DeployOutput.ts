// Original file: proto/certflow/agent/v1/agent.proto

import type { TargetOutcome as _certflow_agent_v1_TargetOutcome, TargetOutcome__Output as _certflow_agent_v1_TargetOutcome__Output } from '../../../certflow/agent/v1/TargetOutcome.js';
import type { StepTiming as _certflow_agent_v1_StepTiming, StepTiming__Output as _certflow_agent_v1_StepTiming__Output } from '../../../certflow/agent/v1/StepTiming.js';
import type { EndpointCheck as _certflow_agent_v1_EndpointCheck, EndpointCheck__Output as _certflow_agent_v1_EndpointCheck__Output } from '../../../certflow/agent/v1/EndpointCheck.js';
import type { RollbackOutput as _certflow_agent_v1_RollbackOutput, RollbackOutput__Output as _certflow_agent_v1_RollbackOutput__Output } from '../../../certflow/agent/v1/RollbackOutput.js';
import type { RecoveryOutcome as _certflow_agent_v1_RecoveryOutcome, RecoveryOutcome__Output as _certflow_agent_v1_RecoveryOutcome__Output } from '../../../certflow/agent/v1/RecoveryOutcome.js';

export interface DeployOutput {
  'deployId'?: (string);
  /**
   * "deployed": in place and validated. "refused": nothing written (bad material, options, path or
   * command). "failed": stopped before any file was replaced. "rolled-back" / "rollback-failed": a file was
   * replaced, then a step failed. "validation-failed": in place, validation failed, not rolled back
   * (rollback_on_failure was off). "recovered": the agent restarted mid-deploy (see recovery).
   * "duplicate": this deploy id was handled before and its result was not kept (see previous_state).
   */
  'status'?: (string);
  /**
   * SHA-256 (hex) of the certificate deployed.
   */
  'fingerprintSha256'?: (string);
  /**
   * The step that failed (check, probe, backup, journal, write, test, reload, validate) and why.
   */
  'failedStep'?: (string);
  /**
   * For "refused": material (key-mismatch, names, expired, ...), "options", "path", "command", "key" or "off".
   */
  'problem'?: (string);
  'reason'?: (string);
  'targets'?: (_certflow_agent_v1_TargetOutcome)[];
  'steps'?: (_certflow_agent_v1_StepTiming)[];
  'validations'?: (_certflow_agent_v1_EndpointCheck)[];
  'rolledBack'?: (boolean);
  /**
   * Set when a rollback ran as part of this deploy.
   */
  'rollback'?: (_certflow_agent_v1_RollbackOutput | null);
  'totalMs'?: (number);
  /**
   * True when this is the stored result of an earlier delivery of the same deploy id.
   */
  'repeated'?: (boolean);
  'recovery'?: (_certflow_agent_v1_RecoveryOutcome | null);
  /**
   * For "duplicate": the deploy journal's state for this id.
   */
  'previousState'?: (string);
}

export interface DeployOutput__Output {
  'deployId': (string);
  /**
   * "deployed": in place and validated. "refused": nothing written (bad material, options, path or
   * command). "failed": stopped before any file was replaced. "rolled-back" / "rollback-failed": a file was
   * replaced, then a step failed. "validation-failed": in place, validation failed, not rolled back
   * (rollback_on_failure was off). "recovered": the agent restarted mid-deploy (see recovery).
   * "duplicate": this deploy id was handled before and its result was not kept (see previous_state).
   */
  'status': (string);
  /**
   * SHA-256 (hex) of the certificate deployed.
   */
  'fingerprintSha256': (string);
  /**
   * The step that failed (check, probe, backup, journal, write, test, reload, validate) and why.
   */
  'failedStep': (string);
  /**
   * For "refused": material (key-mismatch, names, expired, ...), "options", "path", "command", "key" or "off".
   */
  'problem': (string);
  'reason': (string);
  'targets': (_certflow_agent_v1_TargetOutcome__Output)[];
  'steps': (_certflow_agent_v1_StepTiming__Output)[];
  'validations': (_certflow_agent_v1_EndpointCheck__Output)[];
  'rolledBack': (boolean);
  /**
   * Set when a rollback ran as part of this deploy.
   */
  'rollback': (_certflow_agent_v1_RollbackOutput__Output | null);
  'totalMs': (number);
  /**
   * True when this is the stored result of an earlier delivery of the same deploy id.
   */
  'repeated': (boolean);
  'recovery': (_certflow_agent_v1_RecoveryOutcome__Output | null);
  /**
   * For "duplicate": the deploy journal's state for this id.
   */
  'previousState': (string);
}
