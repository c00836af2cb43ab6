// Original file: proto/certflow/agent/v1/agent.proto

import type { HostFacts as _certflow_agent_v1_HostFacts, HostFacts__Output as _certflow_agent_v1_HostFacts__Output } from '../../../certflow/agent/v1/HostFacts.js';
import type { Long } from '@grpc/proto-loader';

export interface CheckIn {
  'host'?: (_certflow_agent_v1_HostFacts | null);
  /**
   * Agent clock, for skew detection.
   */
  'sentAtUnixMs'?: (number | string | Long);
}

export interface CheckIn__Output {
  'host': (_certflow_agent_v1_HostFacts__Output | null);
  /**
   * Agent clock, for skew detection.
   */
  'sentAtUnixMs': (string);
}
