// Original file: proto/certflow/agent/v1/agent.proto


/**
 * One certificate found at one place. The controller parses `der` itself: nothing the agent says about a
 * certificate's contents is trusted.
 */
export interface CertificateOccurrence {
  'path'?: (string);
  /**
   * Position of the certificate within its file (0 for the first certificate of a bundle).
   */
  'index'?: (number);
  /**
   * "pem", "der", "pkcs7", "pkcs12", "jks" or "jceks".
   */
  'format'?: (string);
  'der'?: (Buffer | Uint8Array | string);
  /**
   * Where a private key matching this certificate was found on the host (empty: none found). Only the
   * path: key material never leaves the host.
   */
  'keyPath'?: (string);
}

/**
 * One certificate found at one place. The controller parses `der` itself: nothing the agent says about a
 * certificate's contents is trusted.
 */
export interface CertificateOccurrence__Output {
  'path': (string);
  /**
   * Position of the certificate within its file (0 for the first certificate of a bundle).
   */
  'index': (number);
  /**
   * "pem", "der", "pkcs7", "pkcs12", "jks" or "jceks".
   */
  'format': (string);
  'der': (Buffer);
  /**
   * Where a private key matching this certificate was found on the host (empty: none found). Only the
   * path: key material never leaves the host.
   */
  'keyPath': (string);
}
