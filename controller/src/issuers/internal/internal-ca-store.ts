// Internal CAs in Postgres: a `certificate_authorities` row (kind 'internal') and its key material in
// `secrets`, sealed under the master key with the secret's name as associated data. Both are written in
// one transaction, and the row's unique name decides the race when two replicas create the same CA at
// once: the second insert waits for the first to commit, then does nothing, and both use the winner's.
import type { EntityManager } from '@mikro-orm/postgresql';
import { randomUUID, X509Certificate } from 'node:crypto';
import { CertificateAuthority, type CaPolicy } from '../../db/entities/certificate-authority.js';
import { Secret } from '../../db/entities/secret.js';
import type { SecretBox } from '../../crypto/master-key.js';
import { DEFAULT_INTERNAL_POLICY } from '../ca-policy.js';
import { createCaMaterial, fingerprintSha256, openCaMaterial, type OpenedCa, type StoredCaMaterial } from './ca-material.js';

export const BUILTIN_CA_NAME = 'builtin';

export function caSecretName(caName: string): string {
  return `ca-keys:${caName}`;
}

/** Creates the internal CA `name` unless a CA of that name exists. `created` says whether this call made it. */
export async function createInternalCa(em: EntityManager, box: SecretBox, name: string, policy: CaPolicy): Promise<{ created: boolean }> {
  const material = await createCaMaterial(name);
  const secretName = caSecretName(name);
  const sealed = box.seal(secretName, Buffer.from(JSON.stringify(material)));
  const intermediate = new X509Certificate(material.intermediateCertPem);
  // Non-secret facts for listings; the sealed material stays the authority.
  const config = {
    rootFingerprintSha256: fingerprintSha256(material.rootCertPem),
    intermediateFingerprintSha256: fingerprintSha256(material.intermediateCertPem),
    intermediateSubject: intermediate.subject.replaceAll('\n', ', '),
    intermediateNotAfter: new Date(intermediate.validTo).toISOString(),
  };
  return em.fork().transactional(async (tx) => {
    const now = new Date();
    const inserted = await tx.execute<{ id: string }[]>(
      `insert into certificate_authorities (id, name, kind, config, policy, created_at, disabled)
       values (?, ?, 'internal', ?::jsonb, ?::jsonb, ?, false) on conflict (name) do nothing returning id`,
      [randomUUID(), name, JSON.stringify(config), JSON.stringify(policy), now]);
    if (inserted.length === 0) return { created: false };
    // Left over from a CA of the same name that was deleted: the new CA's keys replace it.
    await tx.execute(
      `insert into secrets (name, sealed, created_at, updated_at) values (?, ?, ?, ?)
       on conflict (name) do update set sealed = excluded.sealed, updated_at = excluded.updated_at`,
      [secretName, sealed, now, now], 'run');
    return { created: true };
  });
}

/** The built-in CA, created at controller start if absent (cheap when it exists: one select). */
export async function ensureBuiltinCa(em: EntityManager, box: SecretBox): Promise<{ created: boolean }> {
  const existing = await em.fork().findOne(CertificateAuthority, { name: BUILTIN_CA_NAME }, { fields: ['id'] });
  if (existing) return { created: false };
  return createInternalCa(em, box, BUILTIN_CA_NAME, DEFAULT_INTERNAL_POLICY);
}

export class CaKeysUnavailableError extends Error {
  override name = 'CaKeysUnavailableError';
}

// A CA's material never changes for a given row id, so an opened CA is kept per master key and CA id:
// key import and the consistency checks run once per process, not on every issue.
const opened = new WeakMap<SecretBox, Map<string, Promise<OpenedCa>>>();

/** Unseals and opens the CA's material; CaKeysUnavailableError says why it cannot. */
export function openInternalCa(em: EntityManager, box: SecretBox, ca: { id: string; name: string }): Promise<OpenedCa> {
  let byId = opened.get(box);
  if (!byId) opened.set(box, (byId = new Map()));
  let pending = byId.get(ca.id);
  if (!pending) {
    pending = loadAndOpen(em, box, ca.name);
    byId.set(ca.id, pending);
    // A failure is not cached: the next call tries again (the database may have been unreachable).
    pending.catch(() => byId.delete(ca.id));
  }
  return pending;
}

async function loadAndOpen(em: EntityManager, box: SecretBox, caName: string): Promise<OpenedCa> {
  const secretName = caSecretName(caName);
  const row = await em.fork().findOne(Secret, { name: secretName }, { disableIdentityMap: true });
  if (!row) throw new CaKeysUnavailableError(`the keys of CA "${caName}" are missing (no secret "${secretName}")`);
  let stored: StoredCaMaterial;
  try {
    stored = JSON.parse(box.open(secretName, Buffer.from(row.sealed)).toString('utf8')) as StoredCaMaterial;
  } catch (cause) {
    throw new CaKeysUnavailableError(`the keys of CA "${caName}" cannot be unsealed: ${(cause as Error).message}`, { cause });
  }
  try {
    return await openCaMaterial(stored);
  } catch (cause) {
    throw new CaKeysUnavailableError(`the keys of CA "${caName}" are unusable: ${(cause as Error).message}`, { cause });
  }
}
