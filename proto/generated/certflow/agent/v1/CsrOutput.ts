// Original file: proto/certflow/agent/v1/agent.proto


/**
 * A certificate request made on the host; the key it belongs to stays in the agent's key store.
 */
export interface CsrOutput {
  'keyId'?: (string);
  'csrPem'?: (string);
  /**
   * SHA-256 (hex) of the public key's SubjectPublicKeyInfo, to match the issued certificate later.
   */
  'publicKeySha256'?: (string);
}

/**
 * A certificate request made on the host; the key it belongs to stays in the agent's key store.
 */
export interface CsrOutput__Output {
  'keyId': (string);
  'csrPem': (string);
  /**
   * SHA-256 (hex) of the public key's SubjectPublicKeyInfo, to match the issued certificate later.
   */
  'publicKeySha256': (string);
}
