// Original file: proto/certflow/agent/v1/agent.proto


export interface RenewIdentityRequest {
  'csrPem'?: (string);
}

export interface RenewIdentityRequest__Output {
  'csrPem': (string);
}
