// Renews the agent's client certificate when less than the configured fraction of its lifetime is left.
// A new key is made for each renewal; the identity on disk is replaced only once the new certificate
// has arrived.
import { X509Certificate } from 'node:crypto';
import type { Logger } from 'pino';
import type { AgentGatewayClient } from '../../../proto/generated/certflow/agent/v1/AgentGateway.js';
import type { RenewIdentityRequest } from '../../../proto/generated/certflow/agent/v1/RenewIdentityRequest.js';
import type { RenewIdentityResponse__Output } from '../../../proto/generated/certflow/agent/v1/RenewIdentityResponse.js';
import { unary } from '../session/gateway-client.js';
import { saveIdentity, type AgentIdentity } from './identity-store.js';
import { newKeyAndCsr } from './key-and-csr.js';

export function identityRenewalDue(certPem: string, remainingFraction: number, now = new Date()): boolean {
  const cert = new X509Certificate(certPem);
  const from = new Date(cert.validFrom).getTime();
  const to = new Date(cert.validTo).getTime();
  return to - now.getTime() < (to - from) * remainingFraction;
}

export async function renewIdentity(
  client: AgentGatewayClient,
  identity: AgentIdentity,
  stateDir: string,
  log: Logger,
): Promise<AgentIdentity> {
  const { keyPem, csrPem } = await newKeyAndCsr(identity.agentId);
  const response = await unary<RenewIdentityRequest, RenewIdentityResponse__Output>(client.renewIdentity.bind(client), { csrPem });
  const renewed = { ...identity, keyPem, certPem: response.clientCertificatePem, caPem: response.caChainPem.join('') };
  await saveIdentity(stateDir, renewed);
  log.info({ notAfter: new X509Certificate(renewed.certPem).validTo }, 'agent certificate renewed');
  return renewed;
}
