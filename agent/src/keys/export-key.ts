// ExportKey jobs: a key made on this host, shared by other hosts (template key.multiHost "shared"), sealed
// to each of their agent identity keys (key-envelope.ts). Only when this agent's own config says so
// (keys.allowExport): the controller alone cannot make a key leave a host. Each recipient's identity
// certificate must have been issued by the agent CA this agent trusts and name the recipient, so a
// controller database that lies about an agent's certificate does not get a key sealed to someone else.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { AgentConfig } from '../config.js';
import type { ExportKeyJob__Output } from '../../../proto/generated/certflow/agent/v1/ExportKeyJob.js';
import type { ExportKeyOutput } from '../../../proto/generated/certflow/agent/v1/ExportKeyOutput.js';
import { loadIdentity } from '../identity/identity-store.js';
import { publicKeySha256, sealKey } from './key-envelope.js';
import { loadKey } from './key-store.js';

/** The subjectAltName URI the controller's agent CA puts in every agent certificate. */
const AGENT_URI_PREFIX = 'urn:certflow:agent:';

export class ExportRefusedError extends Error {
  override name = 'ExportRefusedError';
}

export async function exportKey(config: Pick<AgentConfig, 'stateDir' | 'keys'>, job: ExportKeyJob__Output): Promise<ExportKeyOutput> {
  if (!config.keys.allowExport) {
    throw new ExportRefusedError(`this agent does not let keys leave the host: its config has keys.allowExport false (the default); ` +
      `set "keys": { "allowExport": true } on this host to share key "${job.keyId}" with other hosts, or use key.multiHost "per-host"`);
  }
  if (job.recipients.length === 0) throw new ExportRefusedError('an export needs at least one recipient');
  const identity = await loadIdentity(config.stateDir);
  if (!identity) throw new ExportRefusedError('this agent has no identity yet');
  const keyPem = await loadKey(config.stateDir, job.keyId).catch((err: NodeJS.ErrnoException) => {
    throw new ExportRefusedError(err.code === 'ENOENT' ? `the agent's key store has no key "${job.keyId}"` : err.message);
  });
  const keyHash = publicKeySha256(createPrivateKey(keyPem));
  if (keyHash !== job.publicKeySha256.toLowerCase()) {
    throw new ExportRefusedError(`key "${job.keyId}" is not the key of the issued certificate (public key hash differs)`);
  }
  const agentCa = new X509Certificate(identity.caPem);
  const blobs = job.recipients.map((recipient) => {
    if (recipient.agentId === identity.agentId) throw new ExportRefusedError('an agent does not export a key to itself');
    const cert = recipientCertificate(recipient.identityCertificatePem, recipient.agentId, agentCa);
    return sealKey(keyPem, cert.publicKey, {
      keyId: job.keyId, runId: job.runId, senderAgentId: identity.agentId, recipientAgentId: recipient.agentId, publicKeySha256: keyHash,
    });
  });
  return { keyId: job.keyId, publicKeySha256: keyHash, blobs };
}

function recipientCertificate(pem: string, agentId: string, agentCa: X509Certificate): X509Certificate {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch (err) {
    throw new ExportRefusedError(`agent ${agentId}'s identity certificate does not parse (${(err as Error).message})`);
  }
  if (!cert.checkIssued(agentCa) || !cert.verify(agentCa.publicKey)) {
    throw new ExportRefusedError(`agent ${agentId}'s identity certificate was not issued by the agent CA this agent trusts`);
  }
  const now = Date.now();
  if (now < new Date(cert.validFrom).getTime() || now > new Date(cert.validTo).getTime()) {
    throw new ExportRefusedError(`agent ${agentId}'s identity certificate is expired or not yet valid`);
  }
  const named = (cert.subjectAltName ?? '').split(', ').some((s) => s === `URI:${AGENT_URI_PREFIX}${agentId}`);
  if (!named) throw new ExportRefusedError(`the identity certificate given for agent ${agentId} names another agent`);
  return cert;
}
