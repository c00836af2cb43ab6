// Original file: proto/certflow/agent/v1/agent.proto


export interface FileProblem {
  'path'?: (string);
  'error'?: (string);
}

export interface FileProblem__Output {
  'path': (string);
  'error': (string);
}
