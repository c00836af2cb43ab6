// Secrets at rest are sealed with AES-256-GCM under the master key. The sealed form carries a version
// byte and the name of the secret as associated data, so a blob copied under another name fails to open.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';

const VERSION = 1;

export class MasterKeyMismatchError extends Error {
  override name = 'MasterKeyMismatchError';
}

export interface SecretBox {
  seal(name: string, plaintext: Buffer): Buffer;
  open(name: string, sealed: Buffer): Buffer;
}

export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== 32) throw new ConfigError('the master key must be 32 bytes (base64 of 32 random bytes)');
  return {
    seal(name, plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(name));
      const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      return Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), body]);
    },
    open(name, sealed) {
      if (sealed[0] !== VERSION) throw new MasterKeyMismatchError(`secret "${name}" has an unknown format`);
      const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(1, 13));
      decipher.setAAD(Buffer.from(name));
      decipher.setAuthTag(sealed.subarray(13, 29));
      try {
        return Buffer.concat([decipher.update(sealed.subarray(29)), decipher.final()]);
      } catch (cause) {
        throw new MasterKeyMismatchError(
          `secret "${name}" cannot be opened: the master key is not the one it was sealed with`, { cause });
      }
    },
  };
}

/** Reads the master key from the config (inline base64 or a file holding base64). */
export function loadMasterKey(config: { masterKey?: string; masterKeyFile?: string }): Buffer {
  let text = config.masterKey;
  let source = 'CERTFLOW_MASTER_KEY';
  if (!text && config.masterKeyFile) {
    source = config.masterKeyFile;
    try {
      text = readFileSync(config.masterKeyFile, 'utf8');
    } catch (cause) {
      throw new ConfigError(`cannot read the master key file ${config.masterKeyFile}: ${(cause as Error).message}`, { cause });
    }
  }
  if (!text) {
    throw new ConfigError('no master key: set CERTFLOW_MASTER_KEY_FILE (create one with ' +
      '`certflow-controller init-master-key FILE`) or CERTFLOW_MASTER_KEY');
  }
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== 32) throw new ConfigError(`master key from ${source}: expected base64 of 32 bytes, got ${key.length} bytes`);
  return key;
}

/** Writes a new random master key (base64) readable by its owner only; refuses to overwrite one. */
export function writeNewMasterKey(file: string): void {
  writeFileSync(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
}
