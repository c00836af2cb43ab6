// gRPC client for the controller's agent gateway. With an identity it speaks mutual TLS; without one
// (enrolment) it trusts the pinned CA and presents no certificate.
import * as grpc from '@grpc/grpc-js';
import { loadAgentContract } from '../../../proto/agent-contract.js';
import type { AgentGatewayClient } from '../../../proto/generated/certflow/agent/v1/AgentGateway.js';

export function createGatewayClient(
  address: string,
  tls: { caPem: string; keyPem?: string; certPem?: string; serverName?: string },
): AgentGatewayClient {
  const contract = loadAgentContract();
  const credentials = grpc.credentials.createSsl(
    Buffer.from(tls.caPem),
    tls.keyPem ? Buffer.from(tls.keyPem) : null,
    tls.certPem ? Buffer.from(tls.certPem) : null,
  );
  return new contract.AgentGateway(address, credentials, {
    ...(tls.serverName ? { 'grpc.ssl_target_name_override': tls.serverName } : {}),
    'grpc.keepalive_time_ms': 60_000,
    'grpc.keepalive_timeout_ms': 20_000,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.max_send_message_length': 16 * 1024 * 1024,
  });
}

export function unary<Req, Res>(
  call: (request: Req, options: grpc.CallOptions, callback: (err: grpc.ServiceError | null, res?: Res) => void) => unknown,
  request: Req,
  timeoutMs = 30_000,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    call(request, { deadline: Date.now() + timeoutMs }, (err, res) => (err ? reject(err) : resolve(res!)));
  });
}

export function isServiceError(err: unknown): err is grpc.ServiceError {
  return typeof err === 'object' && err !== null && 'code' in err && 'details' in err;
}

export function describeGrpcError(err: unknown): string {
  if (isServiceError(err)) return `${grpc.status[err.code] ?? err.code}: ${err.details || err.message}`;
  return (err as Error).message ?? String(err);
}
