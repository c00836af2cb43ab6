// Original file: proto/certflow/agent/v1/agent.proto

import type { CsrOutput as _certflow_agent_v1_CsrOutput, CsrOutput__Output as _certflow_agent_v1_CsrOutput__Output } from '../../../certflow/agent/v1/CsrOutput.js';

export interface JobResult {
  'jobId'?: (string);
  'ok'?: (boolean);
  'error'?: (string);
  'csr'?: (_certflow_agent_v1_CsrOutput | null);
  /**
   * What a successful job produced, by job kind.
   */
  'output'?: "csr";
}

export interface JobResult__Output {
  'jobId': (string);
  'ok': (boolean);
  'error': (string);
  'csr'?: (_certflow_agent_v1_CsrOutput__Output | null);
  /**
   * What a successful job produced, by job kind.
   */
  'output'?: "csr";
}
