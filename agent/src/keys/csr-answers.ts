// What this agent answered to each makeCsr job, by key id: the CSR made with the key and a hash of the
// request (<stateDir>/csr/<keyId>.json, 0600). Only public data, so it is kept out of the key store. The
// controller sends a job again when it never recorded the answer (it was killed, the stream broke): the
// same request for the same key id then gets the same CSR back instead of "key already exists", and the
// run goes on with the key already made. A different request for a used key id is still refused.
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../deploy/atomic-write.js';
import { keyPath } from './key-store.js';

export interface CsrAnswer {
  keyId: string;
  csrPem: string;
  publicKeySha256: string;
}

interface StoredAnswer extends CsrAnswer {
  requestSha256: string;
}

export function csrRequestSha256(request: { keyId: string; keyType: string; commonName: string; dnsNames: string[]; ipAddresses: string[] }): string {
  const { keyId, keyType, commonName, dnsNames, ipAddresses } = request;
  return createHash('sha256').update(JSON.stringify({ keyId, keyType, commonName, dnsNames, ipAddresses })).digest('hex');
}

function answerPath(stateDir: string, keyId: string): string {
  keyPath(stateDir, keyId); // the same strict check of the id, which becomes a file name here too
  return join(stateDir, 'csr', `${keyId}.json`);
}

export async function saveCsrAnswer(stateDir: string, answer: CsrAnswer, requestSha256: string): Promise<void> {
  await mkdir(join(stateDir, 'csr'), { recursive: true, mode: 0o700 });
  const stored: StoredAnswer = { ...answer, requestSha256 };
  await writeFileAtomic(answerPath(stateDir, answer.keyId), Buffer.from(JSON.stringify(stored, null, 2)), { mode: 0o600 });
}

/**
 * The answer stored for this key id: `same` when it answered this very request, `other` when the key id
 * was used for another request, null when there is none (yet).
 */
export async function earlierCsrAnswer(stateDir: string, keyId: string, requestSha256: string): Promise<{ same: CsrAnswer } | 'other' | null> {
  let stored: StoredAnswer;
  try {
    stored = JSON.parse(await readFile(answerPath(stateDir, keyId), 'utf8')) as StoredAnswer;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  if (stored.requestSha256 !== requestSha256) return 'other';
  return { same: { keyId: stored.keyId, csrPem: stored.csrPem, publicKeySha256: stored.publicKeySha256 } };
}
