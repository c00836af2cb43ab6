// Original file: proto/certflow/agent/v1/agent.proto


/**
 * A keystore file: opened (its certificates are reported as occurrences), locked (no configured
 * password opens it) or only detected (a format whose contents are not read).
 */
export interface Keystore {
  'path'?: (string);
  'kind'?: (string);
  'state'?: (string);
  'certificates'?: (number);
}

/**
 * A keystore file: opened (its certificates are reported as occurrences), locked (no configured
 * password opens it) or only detected (a format whose contents are not read).
 */
export interface Keystore__Output {
  'path': (string);
  'kind': (string);
  'state': (string);
  'certificates': (number);
}
