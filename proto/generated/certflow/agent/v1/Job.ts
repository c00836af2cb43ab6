// Original file: proto/certflow/agent/v1/agent.proto

import type { RescanJob as _certflow_agent_v1_RescanJob, RescanJob__Output as _certflow_agent_v1_RescanJob__Output } from '../../../certflow/agent/v1/RescanJob.js';
import type { NetworkScanAssignment as _certflow_agent_v1_NetworkScanAssignment, NetworkScanAssignment__Output as _certflow_agent_v1_NetworkScanAssignment__Output } from '../../../certflow/agent/v1/NetworkScanAssignment.js';
import type { MakeCsrJob as _certflow_agent_v1_MakeCsrJob, MakeCsrJob__Output as _certflow_agent_v1_MakeCsrJob__Output } from '../../../certflow/agent/v1/MakeCsrJob.js';
import type { DeployJob as _certflow_agent_v1_DeployJob, DeployJob__Output as _certflow_agent_v1_DeployJob__Output } from '../../../certflow/agent/v1/DeployJob.js';
import type { ValidateJob as _certflow_agent_v1_ValidateJob, ValidateJob__Output as _certflow_agent_v1_ValidateJob__Output } from '../../../certflow/agent/v1/ValidateJob.js';
import type { RollbackJob as _certflow_agent_v1_RollbackJob, RollbackJob__Output as _certflow_agent_v1_RollbackJob__Output } from '../../../certflow/agent/v1/RollbackJob.js';
import type { Http01ChallengeJob as _certflow_agent_v1_Http01ChallengeJob, Http01ChallengeJob__Output as _certflow_agent_v1_Http01ChallengeJob__Output } from '../../../certflow/agent/v1/Http01ChallengeJob.js';
import type { ExportKeyJob as _certflow_agent_v1_ExportKeyJob, ExportKeyJob__Output as _certflow_agent_v1_ExportKeyJob__Output } from '../../../certflow/agent/v1/ExportKeyJob.js';

export interface Job {
  'jobId'?: (string);
  'rescan'?: (_certflow_agent_v1_RescanJob | null);
  'configureNetworkScan'?: (_certflow_agent_v1_NetworkScanAssignment | null);
  'makeCsr'?: (_certflow_agent_v1_MakeCsrJob | null);
  'deploy'?: (_certflow_agent_v1_DeployJob | null);
  'validate'?: (_certflow_agent_v1_ValidateJob | null);
  'rollback'?: (_certflow_agent_v1_RollbackJob | null);
  'http01Challenge'?: (_certflow_agent_v1_Http01ChallengeJob | null);
  'exportKey'?: (_certflow_agent_v1_ExportKeyJob | null);
  'kind'?: "rescan"|"configureNetworkScan"|"makeCsr"|"deploy"|"validate"|"rollback"|"http01Challenge"|"exportKey";
}

export interface Job__Output {
  'jobId': (string);
  'rescan'?: (_certflow_agent_v1_RescanJob__Output | null);
  'configureNetworkScan'?: (_certflow_agent_v1_NetworkScanAssignment__Output | null);
  'makeCsr'?: (_certflow_agent_v1_MakeCsrJob__Output | null);
  'deploy'?: (_certflow_agent_v1_DeployJob__Output | null);
  'validate'?: (_certflow_agent_v1_ValidateJob__Output | null);
  'rollback'?: (_certflow_agent_v1_RollbackJob__Output | null);
  'http01Challenge'?: (_certflow_agent_v1_Http01ChallengeJob__Output | null);
  'exportKey'?: (_certflow_agent_v1_ExportKeyJob__Output | null);
  'kind'?: "rescan"|"configureNetworkScan"|"makeCsr"|"deploy"|"validate"|"rollback"|"http01Challenge"|"exportKey";
}
