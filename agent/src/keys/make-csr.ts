// Makes a key of the requested type on this host and a PKCS#10 request for it with the requested names.
// The key goes to the key store; the caller gets only the CSR and the public key's hash.
import { createHash, generateKeyPair, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import { promisify } from 'node:util';
import { x509 } from '../../../proto/shared/x509.js';
import { earlierCsrAnswer, csrRequestSha256, saveCsrAnswer, type CsrAnswer } from './csr-answers.js';
import { KeyExistsError, storeKey } from './key-store.js';

export const KEY_TYPES = ['ecdsa-p256', 'ecdsa-p384', 'rsa-2048', 'rsa-3072', 'rsa-4096'] as const;
export type KeyType = (typeof KEY_TYPES)[number];

export class CsrRequestError extends Error {
  override name = 'CsrRequestError';
}

export interface CsrRequest {
  keyId: string;
  keyType: string;
  commonName: string;
  dnsNames: string[];
  ipAddresses: string[];
}

const generate = promisify(generateKeyPair);

async function newKeyPair(keyType: KeyType) {
  const [family, size] = keyType.split('-');
  const { privateKey } = family === 'rsa'
    ? await generate('rsa', { modulusLength: Number(size), publicExponent: 0x10001 })
    : await generate('ec', { namedCurve: size === 'p256' ? 'P-256' : 'P-384' });
  const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' });
  const algorithm = family === 'rsa'
    ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }
    : { name: 'ECDSA', namedCurve: size === 'p256' ? 'P-256' : 'P-384', hash: size === 'p256' ? 'SHA-256' : 'SHA-384' };
  const cryptoPrivate = await webcrypto.subtle.importKey('pkcs8', pkcs8, algorithm, true, ['sign']);
  const spki = (await import('node:crypto')).createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  const cryptoPublic = await webcrypto.subtle.importKey('spki', spki, algorithm, true, ['verify']);
  return { algorithm, keys: { privateKey: cryptoPrivate, publicKey: cryptoPublic }, keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, spki };
}

export async function makeCsr(stateDir: string, request: CsrRequest): Promise<{ keyId: string; csrPem: string; publicKeySha256: string }> {
  if (!(KEY_TYPES as readonly string[]).includes(request.keyType)) {
    throw new CsrRequestError(`unknown key type "${request.keyType}" (one of ${KEY_TYPES.join(', ')})`);
  }
  const names = [...request.dnsNames, ...request.ipAddresses];
  if (!request.commonName && names.length === 0) throw new CsrRequestError('a CSR needs a common name or at least one name');
  const badIp = request.ipAddresses.find((ip) => !isIP(ip));
  if (badIp) throw new CsrRequestError(`"${badIp}" is not an IP address`);
  const badName = request.dnsNames.find((n) => !/^(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.?$/.test(n));
  if (badName) throw new CsrRequestError(`"${badName}" is not a DNS name`);

  // The same job sent again (the controller never recorded the answer) gets the same CSR for the same key.
  const requestSha256 = csrRequestSha256(request);
  const earlier = await earlierCsrAnswer(stateDir, request.keyId, requestSha256);
  if (earlier && earlier !== 'other') return earlier.same;

  const pair = await newKeyPair(request.keyType as KeyType);
  const extensions = names.length
    ? [new x509.SubjectAlternativeNameExtension([
      ...request.dnsNames.map((value) => ({ type: 'dns' as const, value })),
      ...request.ipAddresses.map((value) => ({ type: 'ip' as const, value })),
    ])]
    : [];
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: request.commonName ? `CN=${request.commonName.replace(/[,+="\\<>;]/g, '\\$&')}` : '',
    keys: pair.keys,
    signingAlgorithm: pair.algorithm,
    extensions,
  });
  // Stored only once the CSR exists: a failure above leaves no orphan key behind.
  try {
    await storeKey(stateDir, request.keyId, pair.keyPem);
  } catch (err) {
    // A run of the same job resent meanwhile stored its key first: answer what it answers.
    if (err instanceof KeyExistsError) {
      const theirs = await waitForEarlierAnswer(stateDir, request.keyId, requestSha256);
      if (theirs) return theirs;
    }
    throw err;
  }
  const answer = { keyId: request.keyId, csrPem: csr.toString('pem'), publicKeySha256: createHash('sha256').update(pair.spki).digest('hex') };
  await saveCsrAnswer(stateDir, answer, requestSha256);
  return answer;
}

/** The answer of a concurrent run of the same job, which stores its answer just after its key. */
async function waitForEarlierAnswer(stateDir: string, keyId: string, requestSha256: string): Promise<CsrAnswer | null> {
  for (let i = 0; i < 20; i++) {
    const answer = await earlierCsrAnswer(stateDir, keyId, requestSha256);
    if (answer === 'other') return null;
    if (answer) return answer.same;
    await new Promise((r) => setTimeout(r, 100));
  }
  return null;
}
