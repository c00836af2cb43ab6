// Original file: proto/certflow/agent/v1/agent.proto

import type { HostFacts as _certflow_agent_v1_HostFacts, HostFacts__Output as _certflow_agent_v1_HostFacts__Output } from '../../../certflow/agent/v1/HostFacts.js';

/**
 * First message of every session.
 */
export interface Hello {
  'host'?: (_certflow_agent_v1_HostFacts | null);
}

/**
 * First message of every session.
 */
export interface Hello__Output {
  'host': (_certflow_agent_v1_HostFacts__Output | null);
}
