// Original file: /work/main/proto/certflow/agent/v1/agent.proto


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
   * "pem" or "der" (more formats are added by discovery).
   */
  'format'?: (string);
  'der'?: (Buffer | Uint8Array | string);
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
   * "pem" or "der" (more formats are added by discovery).
   */
  'format': (string);
  'der': (Buffer);
}
