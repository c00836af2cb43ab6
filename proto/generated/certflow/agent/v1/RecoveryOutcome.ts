// Original file: proto/certflow/agent/v1/agent.proto

import type { TargetReload as _certflow_agent_v1_TargetReload, TargetReload__Output as _certflow_agent_v1_TargetReload__Output } from '../../../certflow/agent/v1/TargetReload.js';

/**
 * What the agent did at start with a deploy a crash had interrupted.
 */
export interface RecoveryOutcome {
  /**
   * "completed" (every new file was in place and the config tests pass; endpoints NOT validated) or
   * "reverted" (the backups were put back).
   */
  'action'?: (string);
  'why'?: (string);
  'files'?: (string)[];
  'reloads'?: (_certflow_agent_v1_TargetReload)[];
  /**
   * Non-empty: the host needs an operator.
   */
  'problems'?: (string)[];
}

/**
 * What the agent did at start with a deploy a crash had interrupted.
 */
export interface RecoveryOutcome__Output {
  /**
   * "completed" (every new file was in place and the config tests pass; endpoints NOT validated) or
   * "reverted" (the backups were put back).
   */
  'action': (string);
  'why': (string);
  'files': (string)[];
  'reloads': (_certflow_agent_v1_TargetReload__Output)[];
  /**
   * Non-empty: the host needs an operator.
   */
  'problems': (string)[];
}
