// Original file: proto/certflow/agent/v1/agent.proto

import type { Long } from '@grpc/proto-loader';

/**
 * Facts about the host, gathered by the agent with `systeminformation`. Informational only: they never
 * decide who the agent is.
 */
export interface HostFacts {
  'hostname'?: (string);
  'osPlatform'?: (string);
  'osDistro'?: (string);
  'osRelease'?: (string);
  'kernel'?: (string);
  'arch'?: (string);
  'ipAddresses'?: (string)[];
  'agentVersion'?: (string);
  'cpuCores'?: (number);
  'memoryBytes'?: (number | string | Long);
}

/**
 * Facts about the host, gathered by the agent with `systeminformation`. Informational only: they never
 * decide who the agent is.
 */
export interface HostFacts__Output {
  'hostname': (string);
  'osPlatform': (string);
  'osDistro': (string);
  'osRelease': (string);
  'kernel': (string);
  'arch': (string);
  'ipAddresses': (string)[];
  'agentVersion': (string);
  'cpuCores': (number);
  'memoryBytes': (string);
}
