// Original file: proto/certflow/agent/v1/agent.proto


export interface TargetReload {
  'targetId'?: (string);
  'ok'?: (boolean);
  'error'?: (string);
}

export interface TargetReload__Output {
  'targetId': (string);
  'ok': (boolean);
  'error': (string);
}
