// Original file: proto/certflow/agent/v1/agent.proto


/**
 * A TLS endpoint that serves a deployed certificate: checked with a handshake after a reload.
 */
export interface TlsEndpoint {
  'host'?: (string);
  'port'?: (number);
  /**
   * Sent as SNI (unless it is an IP address) and checked against the certificate's names; the host when empty.
   */
  'serverName'?: (string);
}

/**
 * A TLS endpoint that serves a deployed certificate: checked with a handshake after a reload.
 */
export interface TlsEndpoint__Output {
  'host': (string);
  'port': (number);
  /**
   * Sent as SNI (unless it is an IP address) and checked against the certificate's names; the host when empty.
   */
  'serverName': (string);
}
