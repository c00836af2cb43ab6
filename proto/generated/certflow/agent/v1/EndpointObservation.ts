// Original file: proto/certflow/agent/v1/agent.proto


/**
 * What one TLS handshake to an endpoint showed.
 */
export interface EndpointObservation {
  'host'?: (string);
  'port'?: (number);
  /**
   * The SNI name sent; empty for none.
   */
  'serverName'?: (string);
  /**
   * "local" (a listening socket of this host) or "range" (an assigned network range).
   */
  'source'?: (string);
  'ok'?: (boolean);
  /**
   * The served chain, DER, leaf first, as the server sent it.
   */
  'chain'?: (Buffer | Uint8Array | string)[];
  'error'?: (string);
  'protocol'?: (string);
}

/**
 * What one TLS handshake to an endpoint showed.
 */
export interface EndpointObservation__Output {
  'host': (string);
  'port': (number);
  /**
   * The SNI name sent; empty for none.
   */
  'serverName': (string);
  /**
   * "local" (a listening socket of this host) or "range" (an assigned network range).
   */
  'source': (string);
  'ok': (boolean);
  /**
   * The served chain, DER, leaf first, as the server sent it.
   */
  'chain': (Buffer)[];
  'error': (string);
  'protocol': (string);
}
