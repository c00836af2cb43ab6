// Original file: proto/certflow/agent/v1/agent.proto

import type { RescanJob as _certflow_agent_v1_RescanJob, RescanJob__Output as _certflow_agent_v1_RescanJob__Output } from '../../../certflow/agent/v1/RescanJob.js';
import type { NetworkScanAssignment as _certflow_agent_v1_NetworkScanAssignment, NetworkScanAssignment__Output as _certflow_agent_v1_NetworkScanAssignment__Output } from '../../../certflow/agent/v1/NetworkScanAssignment.js';
import type { MakeCsrJob as _certflow_agent_v1_MakeCsrJob, MakeCsrJob__Output as _certflow_agent_v1_MakeCsrJob__Output } from '../../../certflow/agent/v1/MakeCsrJob.js';

export interface Job {
  'jobId'?: (string);
  'rescan'?: (_certflow_agent_v1_RescanJob | null);
  'configureNetworkScan'?: (_certflow_agent_v1_NetworkScanAssignment | null);
  'makeCsr'?: (_certflow_agent_v1_MakeCsrJob | null);
  'kind'?: "rescan"|"configureNetworkScan"|"makeCsr";
}

export interface Job__Output {
  'jobId': (string);
  'rescan'?: (_certflow_agent_v1_RescanJob__Output | null);
  'configureNetworkScan'?: (_certflow_agent_v1_NetworkScanAssignment__Output | null);
  'makeCsr'?: (_certflow_agent_v1_MakeCsrJob__Output | null);
  'kind'?: "rescan"|"configureNetworkScan"|"makeCsr";
}
