// RenewIdentity: an agent with a valid client certificate gets a new one from a fresh CSR. The old serial
// stays accepted as "previous" until the next renewal, so a reply lost in transit never locks it out.
import * as grpc from '@grpc/grpc-js';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import type { RenewIdentityResponse } from '../../../proto/generated/certflow/agent/v1/RenewIdentityResponse.js';
import { Agent } from '../db/entities/agent.js';
import { InvalidCsrError, type AgentCa } from '../crypto/agent-ca.js';
import { GatewayError } from './peer-identity.js';
import { appendAudit } from '../audit/audit-trail.js';

export async function renewIdentity(
  deps: { em: EntityManager; ca: AgentCa; log: Logger; certificateDays: number },
  agent: Agent,
  csrPem: string,
): Promise<RenewIdentityResponse> {
  let issued;
  try {
    issued = await deps.ca.issueAgentCertificate(csrPem, agent.id, deps.certificateDays);
  } catch (cause) {
    if (cause instanceof InvalidCsrError) throw new GatewayError(grpc.status.INVALID_ARGUMENT, cause.message, { cause });
    throw cause;
  }
  await deps.em.transactional(async (tx) => {
    await tx.nativeUpdate(Agent, { id: agent.id }, {
      previousCertificateSerial: agent.certificateSerial,
      certificateSerial: issued.serial,
      certificateNotAfter: issued.notAfter,
      lastSeenAt: new Date(),
    });
    await appendAudit(tx, {
      actor: `agent:${agent.id}`, action: 'agent.renew-identity', targetType: 'agent', targetId: agent.id,
      before: { certificateSerial: agent.certificateSerial }, after: { certificateSerial: issued.serial, certificateNotAfter: issued.notAfter.toISOString() },
    });
  });
  deps.log.info({ agentId: agent.id, notAfter: issued.notAfter }, 'agent certificate renewed');
  return { clientCertificatePem: issued.certPem, caChainPem: [deps.ca.certPem] };
}
