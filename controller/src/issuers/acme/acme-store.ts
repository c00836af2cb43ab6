// ACME CAs in Postgres: the certificate_authorities row (kind 'acme', the non-secret config), the
// operator's secrets (`acme-secrets:<ca>`) and the account (`acme-account:<ca>`: its key and URL), both
// sealed under the master key with the secret's name as associated data. The account key is made once,
// on first use; replicas racing to make it both end up with the one that was written first.
import type { EntityManager } from '@mikro-orm/postgresql';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import type { SecretBox } from '../../crypto/master-key.js';
import type { CaPolicy } from '../ca-policy.js';
import { caPolicySchema } from '../ca-policy.js';
import {
  acmeAccountSecretName, acmeConfigSchema, acmeSecretsName, acmeSecretsSchema, acmeSetupProblem,
  type AcmeConfig, type AcmeConfigInput, type AcmeSecrets,
} from './acme-config.js';

export class AcmeSetupError extends Error {
  override name = 'AcmeSetupError';
}

export interface StoredAccount {
  keyPem: string;
  /** Set once the CA has registered the key. */
  accountUrl?: string;
}

/** The secret `name` as stored (sealed), or null. */
async function readSealedBytes(em: EntityManager, name: string): Promise<Buffer | null> {
  const [row] = await em.getConnection().execute<{ sealed: Buffer }[]>('select sealed from secrets where name = ?', [name]);
  return row ? Buffer.from(row.sealed) : null;
}

async function readSealed(em: EntityManager, box: SecretBox, name: string): Promise<Buffer | null> {
  const sealed = await readSealedBytes(em, name);
  return sealed ? box.open(name, sealed) : null;
}

/** Seals `value` as the secret `name` (in `em`'s transaction); `replace` overwrites an existing one. */
export async function writeSealed(em: EntityManager, box: SecretBox, name: string, value: unknown, replace: boolean): Promise<void> {
  const now = new Date();
  await em.execute(
    `insert into secrets (name, sealed, created_at, updated_at) values (?, ?, ?, ?)
     on conflict (name) do ${replace ? 'update set sealed = excluded.sealed, updated_at = excluded.updated_at' : 'nothing'}`,
    [name, box.seal(name, Buffer.from(JSON.stringify(value))), now, now], 'run');
}

/** Parses and cross-checks a CA's config and secrets; AcmeSetupError says what is wrong. */
export function parseAcmeSetup(caName: string, config: unknown, secrets: unknown): { config: AcmeConfig; secrets: AcmeSecrets } {
  const c = acmeConfigSchema.safeParse(config);
  if (!c.success) {
    const issue = c.error.issues[0];
    throw new AcmeSetupError(`CA "${caName}" has an invalid ACME config: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const s = acmeSecretsSchema.safeParse(secrets ?? {});
  if (!s.success) throw new AcmeSetupError(`CA "${caName}" has invalid ACME secrets: ${s.error.issues[0].path.join('.')}: ${s.error.issues[0].message}`);
  const problem = acmeSetupProblem(c.data, s.data);
  if (problem) throw new AcmeSetupError(`CA "${caName}": ${problem}`);
  return { config: c.data, secrets: s.data };
}

/**
 * Creates the ACME CA `name`, or (`replace`) updates its config, policy and secrets. The row and its
 * sealed secrets are written in one transaction. `created` is false when it existed and was kept.
 */
export async function saveAcmeCa(em: EntityManager, box: SecretBox, input: {
  name: string; config: AcmeConfigInput; secrets?: AcmeSecrets; policy: CaPolicy; replace?: boolean;
}): Promise<{ created: boolean; id: string }> {
  const { config, secrets } = parseAcmeSetup(input.name, input.config, input.secrets ?? {});
  const policy = caPolicySchema.parse(input.policy);
  return em.fork().transactional(async (tx) => {
    const rows = await tx.execute<{ id: string; kind: string; inserted: boolean }[]>(
      `insert into certificate_authorities (id, name, kind, config, policy, created_at, disabled)
       values (?, ?, 'acme', ?::jsonb, ?::jsonb, ?, false)
       on conflict (name) do ${input.replace ? "update set config = excluded.config, policy = excluded.policy where certificate_authorities.kind = 'acme'" : 'nothing'}
       returning id, kind, (xmax = 0) as inserted`,
      [randomUUID(), input.name, JSON.stringify(config), JSON.stringify(policy), new Date()]);
    if (rows.length === 0) {
      const [existing] = await tx.execute<{ id: string; kind: string }[]>('select id, kind from certificate_authorities where name = ?', [input.name]);
      if (existing?.kind !== 'acme') throw new AcmeSetupError(`CA "${input.name}" exists and is not an ACME CA`);
      return { created: false, id: existing.id };
    }
    await writeSealed(tx, box, acmeSecretsName(input.name), secrets, true);
    // A new CA (not an update) starts a new account: a leftover from a deleted CA of that name is dropped.
    if (rows[0].inserted) await tx.execute('delete from secrets where name = ?', [acmeAccountSecretName(input.name)], 'run');
    return { created: rows[0].inserted, id: rows[0].id };
  });
}

export async function loadAcmeSecrets(em: EntityManager, box: SecretBox, caName: string): Promise<unknown> {
  const opened = await readSealed(em, box, acmeSecretsName(caName));
  return opened ? JSON.parse(opened.toString('utf8')) : {};
}

/** The CA's operator secrets as stored (sealed), or null when it has none. */
export function readSealedAcmeSecrets(em: EntityManager, caName: string): Promise<Buffer | null> {
  return readSealedBytes(em, acmeSecretsName(caName));
}

// Opened and parsed setups per master key and CA id, each with the stored config and sealed secrets it
// was made from. It is used while both are byte-for-byte the same: any change of the config (PUT
// /api/v1/cas) or of the secrets (sealing again always makes other bytes) reads the new ones at once.
interface OpenedSetup {
  configText: string;
  sealed: Buffer | null;
  setup: { config: AcmeConfig; secrets: AcmeSecrets };
}
const openedSetups = new WeakMap<SecretBox, Map<string, OpenedSetup>>();

/** parseAcmeSetup of the CA's stored config and sealed secrets (null: none), opened once per change. */
export function openAcmeSetup(
  box: SecretBox, ca: { id: string; name: string; config: unknown }, sealed: Buffer | null,
): { config: AcmeConfig; secrets: AcmeSecrets } {
  let byCa = openedSetups.get(box);
  if (!byCa) openedSetups.set(box, (byCa = new Map()));
  const configText = JSON.stringify(ca.config);
  const known = byCa.get(ca.id);
  if (known && known.configText === configText && (known.sealed === null ? sealed === null : sealed !== null && known.sealed.equals(sealed))) {
    return known.setup;
  }
  const name = acmeSecretsName(ca.name);
  const secrets: unknown = sealed ? JSON.parse(box.open(name, sealed).toString('utf8')) : {};
  const setup = parseAcmeSetup(ca.name, ca.config, secrets);
  byCa.set(ca.id, { configText, sealed, setup });
  return setup;
}

/** The CA's account key (and URL if registered), made and sealed on first use. */
export async function loadOrCreateAccount(em: EntityManager, box: SecretBox, caName: string): Promise<StoredAccount> {
  const name = acmeAccountSecretName(caName);
  const existing = await readSealed(em, box, name);
  if (existing) return JSON.parse(existing.toString('utf8')) as StoredAccount;
  // P-256: small JWS signatures, and every ACME CA accepts ES256 account keys.
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const fresh: StoredAccount = { keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
  await writeSealed(em.fork(), box, name, fresh, false);
  const winner = await readSealed(em, box, name);
  return JSON.parse(winner!.toString('utf8')) as StoredAccount;
}

/** Remembers the account URL next to its key (only for that key: a replaced key is not overwritten). */
export async function saveAccountUrl(em: EntityManager, box: SecretBox, caName: string, account: StoredAccount, accountUrl: string): Promise<void> {
  const name = acmeAccountSecretName(caName);
  await em.fork().transactional(async (tx) => {
    const [row] = await tx.execute<{ sealed: Buffer }[]>('select sealed from secrets where name = ? for update', [name]);
    if (!row) return;
    const stored = JSON.parse(box.open(name, Buffer.from(row.sealed)).toString('utf8')) as StoredAccount;
    if (stored.keyPem !== account.keyPem || stored.accountUrl === accountUrl) return;
    await tx.execute('update secrets set sealed = ?, updated_at = ? where name = ?',
      [box.seal(name, Buffer.from(JSON.stringify({ ...stored, accountUrl }))), new Date(), name], 'run');
  });
}
