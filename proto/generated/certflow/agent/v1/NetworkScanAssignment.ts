// Original file: proto/certflow/agent/v1/agent.proto


export interface NetworkScanAssignment {
  'ranges'?: (string)[];
  'ports'?: (number)[];
}

export interface NetworkScanAssignment__Output {
  'ranges': (string)[];
  'ports': (number)[];
}
