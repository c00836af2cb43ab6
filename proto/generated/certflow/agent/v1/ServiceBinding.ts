// Original file: proto/certflow/agent/v1/agent.proto

import type { ListenAddress as _certflow_agent_v1_ListenAddress, ListenAddress__Output as _certflow_agent_v1_ListenAddress__Output } from '../../../certflow/agent/v1/ListenAddress.js';

/**
 * A server configuration that uses a certificate file: which service, where, for which names and ports.
 */
export interface ServiceBinding {
  'service'?: (string);
  'configPath'?: (string);
  'line'?: (number);
  'certificatePath'?: (string);
  'keyPath'?: (string);
  'chainPath'?: (string);
  'serverNames'?: (string)[];
  'listen'?: (_certflow_agent_v1_ListenAddress)[];
}

/**
 * A server configuration that uses a certificate file: which service, where, for which names and ports.
 */
export interface ServiceBinding__Output {
  'service': (string);
  'configPath': (string);
  'line': (number);
  'certificatePath': (string);
  'keyPath': (string);
  'chainPath': (string);
  'serverNames': (string)[];
  'listen': (_certflow_agent_v1_ListenAddress__Output)[];
}
