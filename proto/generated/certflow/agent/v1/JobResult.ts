// Original file: proto/certflow/agent/v1/agent.proto

import type { CsrOutput as _certflow_agent_v1_CsrOutput, CsrOutput__Output as _certflow_agent_v1_CsrOutput__Output } from '../../../certflow/agent/v1/CsrOutput.js';
import type { DeployOutput as _certflow_agent_v1_DeployOutput, DeployOutput__Output as _certflow_agent_v1_DeployOutput__Output } from '../../../certflow/agent/v1/DeployOutput.js';
import type { ValidateOutput as _certflow_agent_v1_ValidateOutput, ValidateOutput__Output as _certflow_agent_v1_ValidateOutput__Output } from '../../../certflow/agent/v1/ValidateOutput.js';
import type { RollbackOutput as _certflow_agent_v1_RollbackOutput, RollbackOutput__Output as _certflow_agent_v1_RollbackOutput__Output } from '../../../certflow/agent/v1/RollbackOutput.js';

export interface JobResult {
  'jobId'?: (string);
  'ok'?: (boolean);
  'error'?: (string);
  'csr'?: (_certflow_agent_v1_CsrOutput | null);
  'deploy'?: (_certflow_agent_v1_DeployOutput | null);
  'validate'?: (_certflow_agent_v1_ValidateOutput | null);
  'rollback'?: (_certflow_agent_v1_RollbackOutput | null);
  /**
   * What a successful job produced, by job kind.
   */
  'output'?: "csr"|"deploy"|"validate"|"rollback";
}

export interface JobResult__Output {
  'jobId': (string);
  'ok': (boolean);
  'error': (string);
  'csr'?: (_certflow_agent_v1_CsrOutput__Output | null);
  'deploy'?: (_certflow_agent_v1_DeployOutput__Output | null);
  'validate'?: (_certflow_agent_v1_ValidateOutput__Output | null);
  'rollback'?: (_certflow_agent_v1_RollbackOutput__Output | null);
  /**
   * What a successful job produced, by job kind.
   */
  'output'?: "csr"|"deploy"|"validate"|"rollback";
}
