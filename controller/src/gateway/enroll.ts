// Enroll: a single-use token and a CSR become an agent and its client certificate. The token is consumed
// and the agent created in one transaction, so a failure leaves the token usable and creates nothing.
import * as grpc from '@grpc/grpc-js';
import type { EntityManager } from '@mikro-orm/postgresql';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { EnrollRequest__Output } from '../../../proto/generated/certflow/agent/v1/EnrollRequest.js';
import type { EnrollResponse } from '../../../proto/generated/certflow/agent/v1/EnrollResponse.js';
import { Agent } from '../db/entities/agent.js';
import { InvalidCsrError, type AgentCa } from '../crypto/agent-ca.js';
import { consumeEnrollmentToken, EnrollmentRefusedError } from '../enrollment/enrollment-tokens.js';
import { GatewayError } from './peer-identity.js';
import { appendAudit } from '../audit/audit-trail.js';
import { toHostFactsRecord } from './host-facts.js';

export async function enroll(
  deps: { em: EntityManager; ca: AgentCa; log: Logger; certificateDays: number },
  request: EnrollRequest__Output,
): Promise<EnrollResponse> {
  if (!request.token) throw new GatewayError(grpc.status.UNAUTHENTICATED, 'an enrolment token is required');
  if (!request.csrPem) throw new GatewayError(grpc.status.INVALID_ARGUMENT, 'a certificate request (csrPem) is required');
  const agentId = randomUUID();
  let issued;
  try {
    issued = await deps.ca.issueAgentCertificate(request.csrPem, agentId, deps.certificateDays);
  } catch (cause) {
    if (cause instanceof InvalidCsrError) throw new GatewayError(grpc.status.INVALID_ARGUMENT, cause.message, { cause });
    throw cause;
  }
  const host = toHostFactsRecord(request.host);
  try {
    await deps.em.transactional(async (tx) => {
      const tokenId = await consumeEnrollmentToken(tx, request.token, agentId);
      const now = new Date();
      tx.create(Agent, {
        id: agentId,
        name: host.hostname || `agent-${agentId.slice(0, 8)}`,
        hostFacts: host,
        certificateSerial: issued.serial,
        previousCertificateSerial: null,
        certificateNotAfter: issued.notAfter,
        enrolledAt: now,
        enrolledWithTokenId: tokenId,
        lastSeenAt: now,
        lastCheckInAt: null,
        lastInventoryAt: null,
        scanProblems: [],
        revokedAt: null,
      });
      await tx.flush();
      await appendAudit(tx, {
        actor: `enrollment-token:${tokenId}`, action: 'agent.enroll', targetType: 'agent', targetId: agentId,
        after: { name: host.hostname, certificateSerial: issued.serial, certificateNotAfter: issued.notAfter.toISOString() },
      });
    });
  } catch (cause) {
    if (cause instanceof EnrollmentRefusedError) {
      deps.log.warn({ reason: cause.message, hostname: host.hostname }, 'enrolment refused');
      throw new GatewayError(grpc.status.UNAUTHENTICATED, cause.message, { cause });
    }
    throw cause;
  }
  deps.log.info({ agentId, hostname: host.hostname }, 'agent enrolled');
  return { agentId, clientCertificatePem: issued.certPem, caChainPem: [deps.ca.certPem] };
}
