// Original file: proto/certflow/agent/v1/agent.proto


export interface StepTiming {
  'step'?: (string);
  'ms'?: (number | string);
  'ok'?: (boolean);
}

export interface StepTiming__Output {
  'step': (string);
  'ms': (number);
  'ok': (boolean);
}
