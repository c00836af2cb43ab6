// Owner and group names to numeric ids. Node has no getpwnam, and the agent must not shell out for it, so
// read /etc/passwd and /etc/group the way `id` does for local accounts (NSS sources such as LDAP are not
// seen: configure numeric ids for those).
import { readFile } from 'node:fs/promises';
import { TargetOptionsError } from './deploy-target.js';

async function lookup(file: string, name: string): Promise<number | undefined> {
  const text = await readFile(file, 'utf8');
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields[0] === name && fields.length >= 3) return Number(fields[2]);
  }
  return undefined;
}

async function resolveId(kind: 'owner' | 'group', value: string | number | undefined, file: string): Promise<number | undefined> {
  if (value === undefined) return undefined;
  if (typeof value === 'number') return value;
  if (/^\d+$/.test(value)) return Number(value);
  const id = await lookup(file, value);
  if (id === undefined || !Number.isInteger(id)) throw new TargetOptionsError(`unknown ${kind} "${value}" (not in ${file})`);
  return id;
}

export async function resolveOwnership(owner: string | number | undefined, group: string | number | undefined): Promise<{ uid?: number; gid?: number }> {
  return { uid: await resolveId('owner', owner, '/etc/passwd'), gid: await resolveId('group', group, '/etc/group') };
}
