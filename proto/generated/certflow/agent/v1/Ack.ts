// Original file: proto/certflow/agent/v1/agent.proto


/**
 * Acknowledges an agent message that changed state (an applied inventory report, a job result).
 */
export interface Ack {
  'ref'?: (string);
  'ok'?: (boolean);
  'error'?: (string);
  /**
   * With ok false: the controller could not take the message now; send it again later. Without it a
   * refusal is final (the job is no longer open, the report is too large). Older agents ignore it.
   */
  'retry'?: (boolean);
}

/**
 * Acknowledges an agent message that changed state (an applied inventory report, a job result).
 */
export interface Ack__Output {
  'ref': (string);
  'ok': (boolean);
  'error': (string);
  /**
   * With ok false: the controller could not take the message now; send it again later. Without it a
   * refusal is final (the job is no longer open, the report is too large). Older agents ignore it.
   */
  'retry': (boolean);
}
