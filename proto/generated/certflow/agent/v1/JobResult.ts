// Original file: proto/certflow/agent/v1/agent.proto

import type { CsrOutput as _certflow_agent_v1_CsrOutput, CsrOutput__Output as _certflow_agent_v1_CsrOutput__Output } from '../../../certflow/agent/v1/CsrOutput.js';
import type { DeployOutput as _certflow_agent_v1_DeployOutput, DeployOutput__Output as _certflow_agent_v1_DeployOutput__Output } from '../../../certflow/agent/v1/DeployOutput.js';
import type { ValidateOutput as _certflow_agent_v1_ValidateOutput, ValidateOutput__Output as _certflow_agent_v1_ValidateOutput__Output } from '../../../certflow/agent/v1/ValidateOutput.js';
import type { RollbackOutput as _certflow_agent_v1_RollbackOutput, RollbackOutput__Output as _certflow_agent_v1_RollbackOutput__Output } from '../../../certflow/agent/v1/RollbackOutput.js';
import type { Http01Output as _certflow_agent_v1_Http01Output, Http01Output__Output as _certflow_agent_v1_Http01Output__Output } from '../../../certflow/agent/v1/Http01Output.js';
import type { ExportKeyOutput as _certflow_agent_v1_ExportKeyOutput, ExportKeyOutput__Output as _certflow_agent_v1_ExportKeyOutput__Output } from '../../../certflow/agent/v1/ExportKeyOutput.js';

export interface JobResult {
  'jobId'?: (string);
  'ok'?: (boolean);
  'error'?: (string);
  'csr'?: (_certflow_agent_v1_CsrOutput | null);
  'deploy'?: (_certflow_agent_v1_DeployOutput | null);
  'validate'?: (_certflow_agent_v1_ValidateOutput | null);
  'rollback'?: (_certflow_agent_v1_RollbackOutput | null);
  'http01'?: (_certflow_agent_v1_Http01Output | null);
  'exportKey'?: (_certflow_agent_v1_ExportKeyOutput | null);
  /**
   * What the job produced, by job kind. Deploy, validate and rollback jobs answer with their output even
   * when ok is false (which step failed, what changed, whether it was rolled back). A deploy the agent
   * was in the middle of when it stopped is answered, once it has restarted and recovered it, with
   * DeployOutput.status "recovered": the controller sends the unanswered job again and gets that.
   */
  'output'?: "csr"|"deploy"|"validate"|"rollback"|"http01"|"exportKey";
}

export interface JobResult__Output {
  'jobId': (string);
  'ok': (boolean);
  'error': (string);
  'csr'?: (_certflow_agent_v1_CsrOutput__Output | null);
  'deploy'?: (_certflow_agent_v1_DeployOutput__Output | null);
  'validate'?: (_certflow_agent_v1_ValidateOutput__Output | null);
  'rollback'?: (_certflow_agent_v1_RollbackOutput__Output | null);
  'http01'?: (_certflow_agent_v1_Http01Output__Output | null);
  'exportKey'?: (_certflow_agent_v1_ExportKeyOutput__Output | null);
  /**
   * What the job produced, by job kind. Deploy, validate and rollback jobs answer with their output even
   * when ok is false (which step failed, what changed, whether it was rolled back). A deploy the agent
   * was in the middle of when it stopped is answered, once it has restarted and recovered it, with
   * DeployOutput.status "recovered": the controller sends the unanswered job again and gets that.
   */
  'output'?: "csr"|"deploy"|"validate"|"rollback"|"http01"|"exportKey";
}
