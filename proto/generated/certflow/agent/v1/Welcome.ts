// Original file: /work/main/proto/certflow/agent/v1/agent.proto

import type { Long } from '@grpc/proto-loader';

export interface Welcome {
  'agentId'?: (string);
  'checkInIntervalSeconds'?: (number);
  'serverTimeUnixMs'?: (number | string | Long);
}

export interface Welcome__Output {
  'agentId': (string);
  'checkInIntervalSeconds': (number);
  'serverTimeUnixMs': (string);
}
