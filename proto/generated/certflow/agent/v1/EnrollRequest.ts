// Original file: proto/certflow/agent/v1/agent.proto

import type { HostFacts as _certflow_agent_v1_HostFacts, HostFacts__Output as _certflow_agent_v1_HostFacts__Output } from '../../../certflow/agent/v1/HostFacts.js';

export interface EnrollRequest {
  /**
   * The token an operator created (`certflowctl tokens create`), as printed: "<id>.<secret>".
   */
  'token'?: (string);
  /**
   * PKCS#10 certificate request, PEM. The private key never leaves the host.
   */
  'csrPem'?: (string);
  'host'?: (_certflow_agent_v1_HostFacts | null);
}

export interface EnrollRequest__Output {
  /**
   * The token an operator created (`certflowctl tokens create`), as printed: "<id>.<secret>".
   */
  'token': (string);
  /**
   * PKCS#10 certificate request, PEM. The private key never leaves the host.
   */
  'csrPem': (string);
  'host': (_certflow_agent_v1_HostFacts__Output | null);
}
