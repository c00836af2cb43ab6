// Original file: proto/certflow/agent/v1/agent.proto


export interface EnrollResponse {
  'agentId'?: (string);
  'clientCertificatePem'?: (string);
  /**
   * The controller's agent CA, root last. The agent trusts the gateway through it from now on.
   */
  'caChainPem'?: (string)[];
}

export interface EnrollResponse__Output {
  'agentId': (string);
  'clientCertificatePem': (string);
  /**
   * The controller's agent CA, root last. The agent trusts the gateway through it from now on.
   */
  'caChainPem': (string)[];
}
