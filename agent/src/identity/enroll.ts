// First start: exchange the enrolment token for an identity, then keep it in the state directory. Later
// starts load the saved identity and never need the token again.
import * as grpc from '@grpc/grpc-js';
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { AgentConfig } from '../config.js';
import { gatherHostFacts } from '../host-facts.js';
import { createGatewayClient, describeGrpcError, isServiceError, unary } from '../session/gateway-client.js';
import { fetchPinnedCa } from './ca-pin.js';
import { loadIdentity, saveIdentity, type AgentIdentity } from './identity-store.js';
import { newKeyAndCsr } from './key-and-csr.js';
import type { EnrollRequest } from '../../../proto/generated/certflow/agent/v1/EnrollRequest.js';
import type { EnrollResponse__Output } from '../../../proto/generated/certflow/agent/v1/EnrollResponse.js';

export class EnrollmentFailedError extends Error {
  override name = 'EnrollmentFailedError';
  constructor(message: string, readonly retryable: boolean, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export async function ensureEnrolled(config: AgentConfig, log: Logger, signal?: AbortSignal): Promise<AgentIdentity> {
  const existing = await loadIdentity(config.stateDir);
  if (existing) return existing;
  const { token, caPin, caFile } = config.enrollment;
  if (!token) throw new EnrollmentFailedError('this agent is not enrolled and has no enrolment token (enrollment.token or CERTFLOW_ENROLL_TOKEN)', false);
  if (!caPin && !caFile) throw new EnrollmentFailedError('enrolment needs the controller CA: set enrollment.caPin (sha256:...) or enrollment.caFile', false);

  const [host, port] = splitAddress(config.controller);
  const caPem = caFile ? await readFile(caFile, 'utf8') : await fetchPinnedCa(host, port, caPin!, signal);
  const hostFacts = await gatherHostFacts();
  const { keyPem, csrPem } = await newKeyAndCsr(hostFacts.hostname ?? 'certflow-agent');
  const client = createGatewayClient(config.controller, { caPem, serverName: config.serverName });
  let response: EnrollResponse__Output;
  try {
    response = await unary<EnrollRequest, EnrollResponse__Output>(client.enroll.bind(client), { token, csrPem, host: hostFacts });
  } catch (err) {
    const final = isServiceError(err) && [grpc.status.UNAUTHENTICATED, grpc.status.INVALID_ARGUMENT, grpc.status.PERMISSION_DENIED].includes(err.code);
    throw new EnrollmentFailedError(`enrolment refused by the controller: ${describeGrpcError(err)}`, !final, { cause: err });
  } finally {
    client.close();
  }
  const identity: AgentIdentity = {
    agentId: response.agentId,
    keyPem,
    certPem: response.clientCertificatePem,
    caPem: response.caChainPem.join(''),
  };
  await saveIdentity(config.stateDir, identity);
  log.info({ agentId: identity.agentId }, 'agent enrolled');
  return identity;
}

export function splitAddress(address: string): [string, number] {
  const at = address.lastIndexOf(':');
  return [address.slice(0, at).replace(/^\[(.*)\]$/, '$1'), Number(address.slice(at + 1))];
}
