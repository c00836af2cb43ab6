// Original file: proto/certflow/agent/v1/agent.proto

import type { NetworkScanAssignment as _certflow_agent_v1_NetworkScanAssignment, NetworkScanAssignment__Output as _certflow_agent_v1_NetworkScanAssignment__Output } from '../../../certflow/agent/v1/NetworkScanAssignment.js';
import type { Long } from '@grpc/proto-loader';

export interface Welcome {
  'agentId'?: (string);
  'checkInIntervalSeconds'?: (number);
  'serverTimeUnixMs'?: (number | string | Long);
  /**
   * The network ranges an operator assigned to this agent; the agent probes only those its own config
   * also allows.
   */
  'networkScan'?: (_certflow_agent_v1_NetworkScanAssignment | null);
}

export interface Welcome__Output {
  'agentId': (string);
  'checkInIntervalSeconds': (number);
  'serverTimeUnixMs': (string);
  /**
   * The network ranges an operator assigned to this agent; the agent probes only those its own config
   * also allows.
   */
  'networkScan': (_certflow_agent_v1_NetworkScanAssignment__Output | null);
}
