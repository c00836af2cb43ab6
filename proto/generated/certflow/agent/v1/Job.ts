// Original file: proto/certflow/agent/v1/agent.proto

import type { RescanJob as _certflow_agent_v1_RescanJob, RescanJob__Output as _certflow_agent_v1_RescanJob__Output } from '../../../certflow/agent/v1/RescanJob.js';
import type { NetworkScanAssignment as _certflow_agent_v1_NetworkScanAssignment, NetworkScanAssignment__Output as _certflow_agent_v1_NetworkScanAssignment__Output } from '../../../certflow/agent/v1/NetworkScanAssignment.js';

export interface Job {
  'jobId'?: (string);
  'rescan'?: (_certflow_agent_v1_RescanJob | null);
  'configureNetworkScan'?: (_certflow_agent_v1_NetworkScanAssignment | null);
  'kind'?: "rescan"|"configureNetworkScan";
}

export interface Job__Output {
  'jobId': (string);
  'rescan'?: (_certflow_agent_v1_RescanJob__Output | null);
  'configureNetworkScan'?: (_certflow_agent_v1_NetworkScanAssignment__Output | null);
  'kind'?: "rescan"|"configureNetworkScan";
}
