// Original file: proto/certflow/agent/v1/agent.proto


/**
 * Scan the configured roots now and send a full inventory.
 */
export interface RescanJob {
}

/**
 * Scan the configured roots now and send a full inventory.
 */
export interface RescanJob__Output {
}
