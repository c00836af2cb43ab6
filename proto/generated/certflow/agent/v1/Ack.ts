// Original file: proto/certflow/agent/v1/agent.proto


/**
 * Acknowledges an agent message that changed state (an applied inventory report, a job result).
 */
export interface Ack {
  'ref'?: (string);
  'ok'?: (boolean);
  'error'?: (string);
}

/**
 * Acknowledges an agent message that changed state (an applied inventory report, a job result).
 */
export interface Ack__Output {
  'ref': (string);
  'ok': (boolean);
  'error': (string);
}
