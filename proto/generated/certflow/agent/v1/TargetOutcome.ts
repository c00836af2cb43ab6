// Original file: proto/certflow/agent/v1/agent.proto


/**
 * What a deploy did to one target.
 */
export interface TargetOutcome {
  'targetId'?: (string);
  'kind'?: (string);
  /**
   * Real paths of this target's files that the deploy replaced or created.
   */
  'changedFiles'?: (string)[];
  /**
   * Its files that already held exactly the new content, owner and mode.
   */
  'unchangedFiles'?: (string)[];
}

/**
 * What a deploy did to one target.
 */
export interface TargetOutcome__Output {
  'targetId': (string);
  'kind': (string);
  /**
   * Real paths of this target's files that the deploy replaced or created.
   */
  'changedFiles': (string)[];
  /**
   * Its files that already held exactly the new content, owner and mode.
   */
  'unchangedFiles': (string)[];
}
