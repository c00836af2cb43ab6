// The agent's identity on disk, under stateDir/identity (0700): key.pem (0600, never leaves the host),
// cert.pem, ca.pem and agent.json. Files are replaced atomically (write beside, fsync, rename), so a crash
// mid-renewal leaves either the old identity or the new one, never half of each.
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

export interface AgentIdentity {
  agentId: string;
  keyPem: string;
  certPem: string;
  caPem: string;
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
    return { agentId: (JSON.parse(meta) as { agentId: string }).agentId, keyPem, certPem, caPem };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
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
