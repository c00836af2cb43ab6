// Named secrets operators keep in the controller (e.g. PKCS#12 keystore passwords), sealed with the master
// key in the `secrets` table under `user:<name>`. Their values are never listed, logged, audited or
// stored anywhere else: a deploy job names the secret, and the gateway opens it only when it sends the job.
import type { EntityManager } from '@mikro-orm/postgresql';
import { appendAudit } from '../audit/audit-trail.js';
import type { SecretBox } from '../crypto/master-key.js';

const PREFIX = 'user:';
export const SECRET_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export class UnknownSecretError extends Error {
  override name = 'UnknownSecretError';
}

export async function putUserSecret(em: EntityManager, box: SecretBox, input: { name: string; value: string; actor: string }): Promise<'created' | 'updated'> {
  const key = PREFIX + input.name;
  const sealed = box.seal(key, Buffer.from(input.value, 'utf8'));
  return em.transactional(async (tx) => {
    const [existing] = await tx.execute<{ name: string }[]>('select name from secrets where name = ? for update', [key]);
    const now = new Date();
    if (existing) await tx.execute('update secrets set sealed = ?, updated_at = ? where name = ?', [sealed, now, key], 'run');
    else await tx.execute('insert into secrets (name, sealed, created_at, updated_at) values (?, ?, ?, ?)', [key, sealed, now, now], 'run');
    // The audit entry names the secret; its value never leaves the sealed column.
    await appendAudit(tx, { actor: input.actor, action: existing ? 'secret.updated' : 'secret.created', targetType: 'secret', targetId: input.name });
    return existing ? 'updated' : 'created';
  });
}

export async function deleteUserSecret(em: EntityManager, input: { name: string; actor: string }): Promise<boolean> {
  return em.transactional(async (tx) => {
    const deleted = await tx.execute<{ name: string }[]>('delete from secrets where name = ? returning name', [PREFIX + input.name]);
    if (deleted.length > 0) await appendAudit(tx, { actor: input.actor, action: 'secret.deleted', targetType: 'secret', targetId: input.name });
    return deleted.length > 0;
  });
}

export async function listUserSecrets(em: EntityManager): Promise<{ name: string; createdAt: Date; updatedAt: Date }[]> {
  const rows = await em.execute<{ name: string; created_at: string | Date; updated_at: string | Date }[]>(
    `select name, created_at, updated_at from secrets where name like 'user:%' order by name`);
  return rows.map((r) => ({ name: r.name.slice(PREFIX.length), createdAt: new Date(r.created_at), updatedAt: new Date(r.updated_at) }));
}

export async function userSecretExists(em: EntityManager, name: string): Promise<boolean> {
  const [row] = await em.execute<{ name: string }[]>('select name from secrets where name = ?', [PREFIX + name]);
  return Boolean(row);
}

export async function openUserSecret(em: EntityManager, box: SecretBox, name: string): Promise<string> {
  const [row] = await em.execute<{ sealed: Buffer }[]>('select sealed from secrets where name = ?', [PREFIX + name]);
  if (!row) throw new UnknownSecretError(`no secret named "${name}"`);
  return box.open(PREFIX + name, Buffer.from(row.sealed)).toString('utf8');
}
