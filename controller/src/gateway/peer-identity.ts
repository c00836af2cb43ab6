// Who is calling: taken only from the TLS client certificate, verified against the agent CA and the
// agent's row (not revoked; the serial is the current or the previous one, so a renewal in flight still
// works). Nothing in a message body can change the answer.
import * as grpc from '@grpc/grpc-js';
import type { EntityManager } from '@mikro-orm/postgresql';
import { X509Certificate } from 'node:crypto';
import { Agent } from '../db/entities/agent.js';
import type { AgentCa } from '../crypto/agent-ca.js';

export class GatewayError extends Error {
  override name = 'GatewayError';
  constructor(readonly code: grpc.status, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
  /** The shape grpc-js sends as the call's status. */
  toStatus(): Partial<grpc.StatusObject> {
    return { code: this.code, details: this.message };
  }
}

interface CallWithAuth {
  getAuthContext(): { sslPeerCertificate?: { raw?: Buffer } } | null;
}

export async function authenticateAgent(call: CallWithAuth, em: EntityManager, ca: AgentCa): Promise<Agent> {
  const der = call.getAuthContext()?.sslPeerCertificate?.raw;
  if (!der || der.length === 0) throw new GatewayError(grpc.status.UNAUTHENTICATED, 'a client certificate issued by this controller is required (enrol the agent first)');
  let identity: { agentId: string; serial: string };
  try {
    identity = ca.verifyAgentCertificate(der);
  } catch (cause) {
    throw new GatewayError(grpc.status.UNAUTHENTICATED, `client certificate refused: ${(cause as Error).message}`, { cause });
  }
  const agent = await em.findOne(Agent, { id: identity.agentId }, { disableIdentityMap: true });
  if (!agent) throw new GatewayError(grpc.status.UNAUTHENTICATED, 'client certificate refused: the agent is not known');
  if (agent.revokedAt) throw new GatewayError(grpc.status.PERMISSION_DENIED, 'the agent has been revoked');
  if (identity.serial !== agent.certificateSerial && identity.serial !== agent.previousCertificateSerial) {
    throw new GatewayError(grpc.status.UNAUTHENTICATED, 'client certificate refused: it has been superseded');
  }
  return agent;
}

/** The client certificate of the call as PEM (public); null without one. */
export function peerCertificatePem(call: CallWithAuth): string | null {
  const der = call.getAuthContext()?.sslPeerCertificate?.raw;
  if (!der || der.length === 0) return null;
  return new X509Certificate(der).toString();
}
