// Original file: proto/certflow/agent/v1/agent.proto

import type { EndpointCheck as _certflow_agent_v1_EndpointCheck, EndpointCheck__Output as _certflow_agent_v1_EndpointCheck__Output } from '../../../certflow/agent/v1/EndpointCheck.js';

export interface ValidateOutput {
  'ok'?: (boolean);
  'validations'?: (_certflow_agent_v1_EndpointCheck)[];
  'totalMs'?: (number);
}

export interface ValidateOutput__Output {
  'ok': (boolean);
  'validations': (_certflow_agent_v1_EndpointCheck__Output)[];
  'totalMs': (number);
}
