// Original file: proto/certflow/agent/v1/agent.proto


export interface ScanProblem {
  'path'?: (string);
  'message'?: (string);
}

export interface ScanProblem__Output {
  'path': (string);
  'message': (string);
}
