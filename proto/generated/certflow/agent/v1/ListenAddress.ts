// Original file: proto/certflow/agent/v1/agent.proto


export interface ListenAddress {
  /**
   * Empty: every address of the host.
   */
  'address'?: (string);
  'port'?: (number);
}

export interface ListenAddress__Output {
  /**
   * Empty: every address of the host.
   */
  'address': (string);
  'port': (number);
}
