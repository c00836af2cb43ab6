// A private key sealed to one agent's identity key, so that only that agent can open it. Used when one
// key is shared by several hosts: the host that made the key seals it for each other host, and the
// controller, which carries the envelopes, cannot read them. node:crypto only.
//   EC identity (what agents enrol with): an ephemeral key on the recipient's curve, ECDH, HKDF-SHA256
//   over the shared secret, AES-256-GCM.
//   RSA identity: a random AES-256 key wrapped with RSA-OAEP (SHA-256), AES-256-GCM.
// The AAD names what the envelope is for (key id, run, sender, recipient, public key hash): an envelope
// moved to another key, run or agent, or changed by one byte, does not open.
import {
  createCipheriv, createDecipheriv, createHash, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync,
  hkdfSync, privateDecrypt, publicEncrypt, randomBytes, constants, type KeyObject,
} from 'node:crypto';
import type { EncryptedKey } from '../../../proto/generated/certflow/agent/v1/EncryptedKey.js';

export const ECDH_ALGORITHM = 'ecdh-hkdf-sha256-aes-256-gcm';
export const RSA_ALGORITHM = 'rsa-oaep-sha256-aes-256-gcm';
const HKDF_INFO = Buffer.from('certflow key envelope v1');

export class KeyEnvelopeError extends Error {
  override name = 'KeyEnvelopeError';
}

export interface EnvelopeLabels {
  keyId: string;
  runId: string;
  senderAgentId: string;
  recipientAgentId: string;
  /** SHA-256 (hex) of the sealed key's SubjectPublicKeyInfo. */
  publicKeySha256: string;
}

export type SealedKey = Required<EncryptedKey>;

function aad(labels: EnvelopeLabels): Buffer {
  return Buffer.from(['certflow-key-export-v1', labels.keyId, labels.runId, labels.senderAgentId, labels.recipientAgentId, labels.publicKeySha256].join('\n'));
}

export function publicKeySha256(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
}

/** Seals `keyPem` to the holder of `recipientPublicKey` (an agent identity key). */
export function sealKey(keyPem: string, recipientPublicKey: KeyObject, labels: EnvelopeLabels): SealedKey {
  const plaintext = createPrivateKey(keyPem).export({ type: 'pkcs8', format: 'der' });
  let algorithm: string;
  let encapsulated: Buffer;
  let aesKey: Buffer;
  if (recipientPublicKey.asymmetricKeyType === 'ec') {
    const namedCurve = recipientPublicKey.asymmetricKeyDetails?.namedCurve;
    if (!namedCurve) throw new KeyEnvelopeError('the recipient\'s EC key names no curve');
    const ephemeral = generateKeyPairSync('ec', { namedCurve });
    const shared = diffieHellman({ privateKey: ephemeral.privateKey, publicKey: recipientPublicKey });
    encapsulated = ephemeral.publicKey.export({ type: 'spki', format: 'der' });
    aesKey = deriveKey(shared, encapsulated, recipientPublicKey);
    algorithm = ECDH_ALGORITHM;
  } else if (recipientPublicKey.asymmetricKeyType === 'rsa') {
    aesKey = randomBytes(32);
    encapsulated = publicEncrypt({ key: recipientPublicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, aesKey);
    algorithm = RSA_ALGORITHM;
  } else {
    throw new KeyEnvelopeError(`cannot seal to a ${recipientPublicKey.asymmetricKeyType ?? 'unknown'} identity key (EC or RSA only)`);
  }
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', aesKey, iv);
  cipher.setAAD(aad(labels));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return {
    algorithm, ...labels,
    encapsulatedKey: encapsulated.toString('base64'), iv: iv.toString('base64'),
    ciphertext: ciphertext.toString('base64'), tag: cipher.getAuthTag().toString('base64'),
  };
}

/**
 * Opens an envelope with this agent's identity key; returns the key as PKCS#8 PEM. Throws
 * KeyEnvelopeError when the envelope was altered, is for another key or agent, or does not open.
 */
export function openKey(envelope: EncryptedKey, identityKeyPem: string, expected: { keyId: string; recipientAgentId: string }): string {
  const e = envelope as SealedKey;
  if (e.keyId !== expected.keyId) throw new KeyEnvelopeError(`the encrypted key is for key "${e.keyId}", not "${expected.keyId}"`);
  if (e.recipientAgentId !== expected.recipientAgentId) throw new KeyEnvelopeError(`the encrypted key is for agent ${e.recipientAgentId}, not this agent (${expected.recipientAgentId})`);
  const identity = createPrivateKey(identityKeyPem);
  const encapsulated = Buffer.from(e.encapsulatedKey ?? '', 'base64');
  let aesKey: Buffer;
  try {
    if (e.algorithm === ECDH_ALGORITHM && identity.asymmetricKeyType === 'ec') {
      const ephemeral = createPublicKey({ key: encapsulated, format: 'der', type: 'spki' });
      aesKey = deriveKey(diffieHellman({ privateKey: identity, publicKey: ephemeral }), encapsulated, createPublicKey(identity));
    } else if (e.algorithm === RSA_ALGORITHM && identity.asymmetricKeyType === 'rsa') {
      aesKey = privateDecrypt({ key: identity, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, encapsulated);
    } else {
      throw new KeyEnvelopeError(`algorithm "${e.algorithm}" does not fit this agent's ${identity.asymmetricKeyType ?? ''} identity key`);
    }
  } catch (err) {
    if (err instanceof KeyEnvelopeError) throw err;
    throw new KeyEnvelopeError(`the encrypted key cannot be opened with this agent's identity key (${(err as Error).message})`, { cause: err });
  }
  let plaintext: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-gcm', aesKey, Buffer.from(e.iv ?? '', 'base64'));
    decipher.setAAD(aad(e));
    decipher.setAuthTag(Buffer.from(e.tag ?? '', 'base64'));
    plaintext = Buffer.concat([decipher.update(Buffer.from(e.ciphertext ?? '', 'base64')), decipher.final()]);
  } catch (err) {
    throw new KeyEnvelopeError('the encrypted key fails its integrity check: it was altered, or is not for this key, run or agent', { cause: err });
  }
  const key = createPrivateKey({ key: plaintext, format: 'der', type: 'pkcs8' });
  if (publicKeySha256(key) !== e.publicKeySha256) throw new KeyEnvelopeError('the opened key is not the key the envelope names');
  return key.export({ type: 'pkcs8', format: 'pem' }) as string;
}

/** The AES key: HKDF-SHA256 over the ECDH secret, salted with both public keys. */
function deriveKey(shared: Buffer, ephemeralSpki: Buffer, recipientPublicKey: KeyObject): Buffer {
  const salt = createHash('sha256').update(ephemeralSpki).update(recipientPublicKey.export({ type: 'spki', format: 'der' })).digest();
  return Buffer.from(hkdfSync('sha256', shared, salt, HKDF_INFO, 32));
}
