// What an agent's JobResult becomes in AgentJob.result. The contract already limits an output to known
// fields; this also bounds every string and list, so an agent (trusted for its own host, not for the
// controller's memory or database) cannot store megabytes in one job row. Deploy, validate and rollback
// outputs are kept on failure too: they say which step failed, what changed and whether it was rolled back.
import type { JobResult__Output } from '../../../proto/generated/certflow/agent/v1/JobResult.js';

const MAX_STRING = 4000;
const MAX_ITEMS = 200;
const MAX_DEPTH = 6;

/** A copy of a decoded protobuf value with every string and list cut to size. */
function bounded(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.slice(0, MAX_STRING);
  if (typeof value !== 'object' || value === null) return value;
  if (depth >= MAX_DEPTH) return null;
  if (Array.isArray(value)) return value.slice(0, MAX_ITEMS).map((v) => bounded(v, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, bounded(v, depth + 1)]));
}

export function jobOutputRecord(result: JobResult__Output): Record<string, unknown> | null {
  switch (result.output) {
    case 'csr': {
      // Public material only: a CSR and the hash of its public key (and what it serves for http-01, kept where
      // an Http01Challenge job's answer is).
      const csr = result.csr!;
      return {
        csr: { keyId: csr.keyId.slice(0, 64), csrPem: csr.csrPem.slice(0, 16_384), publicKeySha256: csr.publicKeySha256.slice(0, 64) },
        ...(csr.http01 ? { http01: bounded(csr.http01) } : {}),
      };
    }
    case 'deploy':
      return { deploy: bounded(result.deploy) };
    case 'validate':
      return { validate: bounded(result.validate) };
    case 'rollback':
      return { rollback: bounded(result.rollback) };
    case 'http01':
      return { http01: bounded(result.http01) };
    case 'exportKey':
      // Sealed keys only: each opens with one recipient agent's identity key, never with the controller's.
      return { exportKey: bounded(result.exportKey) };
    default:
      return null;
  }
}
