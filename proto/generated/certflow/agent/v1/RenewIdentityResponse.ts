// Original file: proto/certflow/agent/v1/agent.proto


export interface RenewIdentityResponse {
  'clientCertificatePem'?: (string);
  'caChainPem'?: (string)[];
}

export interface RenewIdentityResponse__Output {
  'clientCertificatePem': (string);
  'caChainPem': (string)[];
}
