// Original file: proto/certflow/agent/v1/agent.proto


/**
 * One place the certificate goes on the host. The agent checks the options with its own schema for the
 * kind, and against its own allowedPaths and command allowlist: the controller cannot widen either.
 */
export interface DeployTargetSpec {
  /**
   * "nginx", "apache", "haproxy", "file" or "pkcs12".
   */
  'kind'?: (string);
  /**
   * The kind's options as a JSON object (see agent/src/deploy/<kind>-target.ts).
   */
  'optionsJson'?: (string);
}

/**
 * One place the certificate goes on the host. The agent checks the options with its own schema for the
 * kind, and against its own allowedPaths and command allowlist: the controller cannot widen either.
 */
export interface DeployTargetSpec__Output {
  /**
   * "nginx", "apache", "haproxy", "file" or "pkcs12".
   */
  'kind': (string);
  /**
   * The kind's options as a JSON object (see agent/src/deploy/<kind>-target.ts).
   */
  'optionsJson': (string);
}
