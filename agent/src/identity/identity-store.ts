// The agent's identity on disk, under stateDir/identity (0700): key.pem (0600, never leaves the host),
// cert.pem, ca.pem and agent.json. Files are replaced atomically (write beside, fsync, rename), so a crash
// mid-renewal leaves either the old identity or the new one, never half of each.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

export interface AgentIdentity {
  agentId: string;
  keyPem: string;
  certPem: string;
  caPem: string;
}

export class CorruptIdentityError extends Error {
  override name = 'CorruptIdentityError';
}

export function identityDir(stateDir: string): string {
  return join(stateDir, 'identity');
}

export async function loadIdentity(stateDir: string): Promise<AgentIdentity | null> {
  const dir = identityDir(stateDir);
  try {
    const [meta, keyPem, certPem, caPem] = await Promise.all([
      readFile(join(dir, 'agent.json'), 'utf8'),
      readFile(join(dir, 'key.pem'), 'utf8'),
      readFile(join(dir, 'cert.pem'), 'utf8'),
      readFile(join(dir, 'ca.pem'), 'utf8'),
    ]);
    return checkIdentity(dir, { agentId: (JSON.parse(meta) as { agentId: string }).agentId, keyPem, certPem, caPem });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    if (err instanceof CorruptIdentityError) throw err;
    throw new CorruptIdentityError(`the agent identity in ${dir} cannot be read: ${(err as Error).message}; ` +
      'restore it from a backup, or remove that directory and enrol again with a new token', { cause: err });
  }
}

/** A damaged identity is refused with a message that says what to do, instead of a TLS stack trace later. */
function checkIdentity(dir: string, identity: AgentIdentity): AgentIdentity {
  const problem = (what: string, cause: unknown) => new CorruptIdentityError(
    `the agent identity in ${dir} is damaged (${what}: ${(cause as Error).message}); ` +
    'restore it from a backup, or remove that directory and enrol again with a new token', { cause });
  if (typeof identity.agentId !== 'string' || !identity.agentId) throw problem('agent.json', new Error('no agentId'));
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(identity.certPem);
  } catch (cause) {
    throw problem('cert.pem', cause);
  }
  try {
    new X509Certificate(identity.caPem);
  } catch (cause) {
    throw problem('ca.pem', cause);
  }
  try {
    if (!cert.checkPrivateKey(createPrivateKey(identity.keyPem))) throw new Error('the key does not match cert.pem');
  } catch (cause) {
    throw problem('key.pem', cause);
  }
  return identity;
}

export async function saveIdentity(stateDir: string, identity: AgentIdentity): Promise<void> {
  const dir = identityDir(stateDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // Key and certificate are written first and agent.json last: loadIdentity needs all four files.
  await writeAtomically(join(dir, 'key.pem'), identity.keyPem, 0o600);
  await writeAtomically(join(dir, 'cert.pem'), identity.certPem, 0o644);
  await writeAtomically(join(dir, 'ca.pem'), identity.caPem, 0o644);
  await writeAtomically(join(dir, 'agent.json'), JSON.stringify({ agentId: identity.agentId }) + '\n', 0o644);
}

async function writeAtomically(path: string, content: string, mode: number): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}`;
  const handle = await open(temporary, 'w', mode);
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temporary, path);
  } catch (err) {
    await rm(temporary, { force: true });
    throw err;
  }
}
