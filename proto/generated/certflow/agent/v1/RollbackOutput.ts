// Original file: proto/certflow/agent/v1/agent.proto

import type { FileProblem as _certflow_agent_v1_FileProblem, FileProblem__Output as _certflow_agent_v1_FileProblem__Output } from '../../../certflow/agent/v1/FileProblem.js';
import type { TargetReload as _certflow_agent_v1_TargetReload, TargetReload__Output as _certflow_agent_v1_TargetReload__Output } from '../../../certflow/agent/v1/TargetReload.js';
import type { EndpointCheck as _certflow_agent_v1_EndpointCheck, EndpointCheck__Output as _certflow_agent_v1_EndpointCheck__Output } from '../../../certflow/agent/v1/EndpointCheck.js';
import type { TlsEndpoint as _certflow_agent_v1_TlsEndpoint, TlsEndpoint__Output as _certflow_agent_v1_TlsEndpoint__Output } from '../../../certflow/agent/v1/TlsEndpoint.js';
import type { StepTiming as _certflow_agent_v1_StepTiming, StepTiming__Output as _certflow_agent_v1_StepTiming__Output } from '../../../certflow/agent/v1/StepTiming.js';

export interface RollbackOutput {
  'deployId'?: (string);
  /**
   * "rolled-back", "rollback-failed", "already-rolled-back", "nothing-to-roll-back" or "refused".
   */
  'status'?: (string);
  'ok'?: (boolean);
  'reason'?: (string);
  'restoredFiles'?: (string)[];
  'restoreFailures'?: (_certflow_agent_v1_FileProblem)[];
  'reloads'?: (_certflow_agent_v1_TargetReload)[];
  'validations'?: (_certflow_agent_v1_EndpointCheck)[];
  /**
   * Endpoints whose old certificate could not be compared (none expected, or none answered before).
   */
  'notCheckedEndpoints'?: (_certflow_agent_v1_TlsEndpoint)[];
  'steps'?: (_certflow_agent_v1_StepTiming)[];
}

export interface RollbackOutput__Output {
  'deployId': (string);
  /**
   * "rolled-back", "rollback-failed", "already-rolled-back", "nothing-to-roll-back" or "refused".
   */
  'status': (string);
  'ok': (boolean);
  'reason': (string);
  'restoredFiles': (string)[];
  'restoreFailures': (_certflow_agent_v1_FileProblem__Output)[];
  'reloads': (_certflow_agent_v1_TargetReload__Output)[];
  'validations': (_certflow_agent_v1_EndpointCheck__Output)[];
  /**
   * Endpoints whose old certificate could not be compared (none expected, or none answered before).
   */
  'notCheckedEndpoints': (_certflow_agent_v1_TlsEndpoint__Output)[];
  'steps': (_certflow_agent_v1_StepTiming__Output)[];
}
