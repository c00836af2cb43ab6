// Original file: proto/certflow/agent/v1/agent.proto


export interface LocationRef {
  'path'?: (string);
  'index'?: (number);
}

export interface LocationRef__Output {
  'path': (string);
  'index': (number);
}
