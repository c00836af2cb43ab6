// Original file: proto/certflow/agent/v1/agent.proto


/**
 * A private key encrypted to one agent's identity key. Binary fields are base64. The AAD is
 * "certflow-key-export-v1", key_id, run_id, sender_agent_id, recipient_agent_id and public_key_sha256,
 * joined by newlines; changing any of them, or a byte of the ciphertext, makes decryption fail.
 */
export interface EncryptedKey {
  /**
   * "ecdh-hkdf-sha256-aes-256-gcm" (EC identity: ephemeral ECDH on the recipient's curve, HKDF-SHA256,
   * AES-256-GCM) or "rsa-oaep-sha256-aes-256-gcm" (RSA identity: the AES key wrapped with RSA-OAEP).
   */
  'algorithm'?: (string);
  'keyId'?: (string);
  'runId'?: (string);
  'senderAgentId'?: (string);
  'recipientAgentId'?: (string);
  'publicKeySha256'?: (string);
  /**
   * ECDH: the ephemeral public key (SPKI DER); RSA-OAEP: the wrapped AES key.
   */
  'encapsulatedKey'?: (string);
  'iv'?: (string);
  /**
   * The key as PKCS#8 DER, encrypted.
   */
  'ciphertext'?: (string);
  'tag'?: (string);
}

/**
 * A private key encrypted to one agent's identity key. Binary fields are base64. The AAD is
 * "certflow-key-export-v1", key_id, run_id, sender_agent_id, recipient_agent_id and public_key_sha256,
 * joined by newlines; changing any of them, or a byte of the ciphertext, makes decryption fail.
 */
export interface EncryptedKey__Output {
  /**
   * "ecdh-hkdf-sha256-aes-256-gcm" (EC identity: ephemeral ECDH on the recipient's curve, HKDF-SHA256,
   * AES-256-GCM) or "rsa-oaep-sha256-aes-256-gcm" (RSA identity: the AES key wrapped with RSA-OAEP).
   */
  'algorithm': (string);
  'keyId': (string);
  'runId': (string);
  'senderAgentId': (string);
  'recipientAgentId': (string);
  'publicKeySha256': (string);
  /**
   * ECDH: the ephemeral public key (SPKI DER); RSA-OAEP: the wrapped AES key.
   */
  'encapsulatedKey': (string);
  'iv': (string);
  /**
   * The key as PKCS#8 DER, encrypted.
   */
  'ciphertext': (string);
  'tag': (string);
}
