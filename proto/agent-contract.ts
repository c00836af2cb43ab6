// Loads the agent <-> controller contract at run time. Both processes load it the same way, so the wire
// format (camelCase fields, int64 as strings, oneof names in a `body`/`kind` field) is the same on both
// sides and matches the generated types in proto/generated/.
import { loadSync } from '@grpc/proto-loader';
import { loadPackageDefinition } from '@grpc/grpc-js';
import { fileURLToPath } from 'node:url';
import type { ProtoGrpcType } from './generated/agent.js';

const protoRoot = fileURLToPath(new URL('.', import.meta.url)).replace(/\/dist\/proto\/$/, '/proto/');

export function loadAgentContract(): ProtoGrpcType['certflow']['agent']['v1'] {
  const definition = loadSync('certflow/agent/v1/agent.proto', {
    includeDirs: [protoRoot],
    keepCase: false,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  return (loadPackageDefinition(definition) as unknown as ProtoGrpcType).certflow.agent.v1;
}
