// The receiving side of a shared key: a deploy job carries the key sealed to this agent's identity key by
// the host that made it. The agent opens it with its own identity key, checks that it is the key of the
// certificate being deployed, and stores it in its key store (0600) under the job's key id; the deploy
// then reads it from there like any key made here.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { EncryptedKey__Output } from '../../../proto/generated/certflow/agent/v1/EncryptedKey.js';
import { loadIdentity } from '../identity/identity-store.js';
import { openKey, publicKeySha256 } from './key-envelope.js';
import { KeyExistsError, loadKey, storeKey } from './key-store.js';

export class KeyImportError extends Error {
  override name = 'KeyImportError';
}

export async function importSharedKey(stateDir: string, envelope: EncryptedKey__Output, keyId: string, certificatePem: string): Promise<void> {
  const identity = await loadIdentity(stateDir);
  if (!identity) throw new KeyImportError('this agent has no identity to open a shared key with');
  let keyPem: string;
  try {
    keyPem = openKey(envelope, identity.keyPem, { keyId, recipientAgentId: identity.agentId });
  } catch (err) {
    throw new KeyImportError(`shared key refused: ${(err as Error).message}`, { cause: err });
  }
  const key = createPrivateKey(keyPem);
  let matches = false;
  try {
    matches = new X509Certificate(certificatePem).checkPrivateKey(key);
  } catch {
    matches = false;
  }
  if (!matches) throw new KeyImportError('shared key refused: it is not the key of the certificate being deployed');
  try {
    await storeKey(stateDir, keyId, keyPem);
  } catch (err) {
    if (!(err instanceof KeyExistsError)) throw err;
    // The same job delivered again after the key was stored: fine if it is the same key, never replaced.
    if (publicKeySha256(createPrivateKey(await loadKey(stateDir, keyId))) !== publicKeySha256(key)) {
      throw new KeyImportError(`shared key refused: the key store already holds another key "${keyId}"`);
    }
  }
}
