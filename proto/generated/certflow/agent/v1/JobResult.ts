// Original file: proto/certflow/agent/v1/agent.proto


export interface JobResult {
  'jobId'?: (string);
  'ok'?: (boolean);
  'error'?: (string);
}

export interface JobResult__Output {
  'jobId': (string);
  'ok': (boolean);
  'error': (string);
}
