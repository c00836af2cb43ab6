// The agent's key store: private keys made on this host for its certificates, one PEM file per key under
// stateDir/keys (directory 0700, files 0600). Keys are written once, atomically, and never leave the
// host: only the CSR and the public key's hash go to the controller.
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

const KEY_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;

export class KeyStoreError extends Error {
  override name = 'KeyStoreError';
}

export class KeyExistsError extends KeyStoreError {
  override name = 'KeyExistsError';
}

export function keyStoreDir(stateDir: string): string {
  return join(stateDir, 'keys');
}

export function keyPath(stateDir: string, keyId: string): string {
  // The id becomes a file name: a strict pattern keeps it inside the store (no "/", no "..").
  if (!KEY_ID.test(keyId)) throw new KeyStoreError(`invalid key id "${keyId}" (expected [a-z0-9-], at most 64 characters)`);
  return join(keyStoreDir(stateDir), `${keyId}.pem`);
}

/** Stores a new key; refuses to replace an existing one (a key id names one key forever). */
export async function storeKey(stateDir: string, keyId: string, keyPem: string): Promise<string> {
  const path = keyPath(stateDir, keyId);
  await mkdir(keyStoreDir(stateDir), { recursive: true, mode: 0o700 });
  // Unique per call: two runs of one job in this process must not share (and delete) one temporary file.
  const temporary = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const handle = await open(temporary, 'wx', 0o600);
  try {
    await handle.writeFile(keyPem);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    // link() fails if the name exists (rename would silently replace a key), and is atomic.
    await link(temporary, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new KeyExistsError(`key "${keyId}" already exists in the key store`);
    throw err;
  } finally {
    await rm(temporary, { force: true });
  }
  return path;
}

export async function loadKey(stateDir: string, keyId: string): Promise<string> {
  return readFile(keyPath(stateDir, keyId), 'utf8');
}
