// Original file: proto/certflow/agent/v1/agent.proto

import type { Long } from '@grpc/proto-loader';

export interface Http01Output {
  'challengeId'?: (string);
  /**
   * "serving" (start) or "stopped" (stop; also when nothing was served under this id any more).
   */
  'status'?: (string);
  /**
   * What serves the tokens: "port" or "webroot".
   */
  'mode'?: (string);
  'port'?: (number);
  /**
   * Webroot mode: the files written (start) or removed (stop).
   */
  'files'?: (string)[];
  /**
   * When the agent stops serving on its own, unix ms.
   */
  'expiresAtUnixMs'?: (number | string | Long);
}

export interface Http01Output__Output {
  'challengeId': (string);
  /**
   * "serving" (start) or "stopped" (stop; also when nothing was served under this id any more).
   */
  'status': (string);
  /**
   * What serves the tokens: "port" or "webroot".
   */
  'mode': (string);
  'port': (number);
  /**
   * Webroot mode: the files written (start) or removed (stop).
   */
  'files': (string)[];
  /**
   * When the agent stops serving on its own, unix ms.
   */
  'expiresAtUnixMs': (string);
}
