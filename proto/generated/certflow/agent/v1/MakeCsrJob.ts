// Original file: proto/certflow/agent/v1/agent.proto


/**
 * Make a new key on the host (kept in the agent's key store, mode 0600) and a CSR for it.
 */
export interface MakeCsrJob {
  /**
   * Names the key in the store: [a-z0-9-], at most 64 characters.
   */
  'keyId'?: (string);
  /**
   * "ecdsa-p256", "ecdsa-p384", "rsa-2048", "rsa-3072" or "rsa-4096".
   */
  'keyType'?: (string);
  'commonName'?: (string);
  'dnsNames'?: (string)[];
  'ipAddresses'?: (string)[];
}

/**
 * Make a new key on the host (kept in the agent's key store, mode 0600) and a CSR for it.
 */
export interface MakeCsrJob__Output {
  /**
   * Names the key in the store: [a-z0-9-], at most 64 characters.
   */
  'keyId': (string);
  /**
   * "ecdsa-p256", "ecdsa-p384", "rsa-2048", "rsa-3072" or "rsa-4096".
   */
  'keyType': (string);
  'commonName': (string);
  'dnsNames': (string)[];
  'ipAddresses': (string)[];
}
