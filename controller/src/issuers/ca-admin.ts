// Adding and changing CAs (the admin API's POST /api/v1/cas and PUT /api/v1/cas/:name). Each change is
// one transaction: the certificate_authorities row, the CA's sealed secrets and the audit entry commit
// together. The audit entry records the non-secret config and policy, and which secrets were set or
// changed, never their values. Only ACME CAs are added here: the built-in CA is made by the controller,
// and a CA's kind never changes.
import type { EntityManager } from '@mikro-orm/postgresql';
import { randomUUID } from 'node:crypto';
import { appendAudit } from '../audit/audit-trail.js';
import type { SecretBox } from '../crypto/master-key.js';
import type { CaKind, CaPolicy } from '../db/entities/certificate-authority.js';
import type { AcmeConfigBody, AcmeConfigPatch } from '../api/ca-admin-schemas.js';
import { acmeAccountSecretName, acmeSecretsName, type AcmeConfigInput, type AcmeSecrets } from './acme/acme-config.js';
import { AcmeSetupError, parseAcmeSetup, writeSealed } from './acme/acme-store.js';
import { caPolicySchema } from './ca-policy.js';
import { UnknownIssuerError } from './issuer-registry.js';

/** The request conflicts with what exists (the name is taken, the kind would change, the CA is built in). */
export class CaConflictError extends Error {
  override name = 'CaConflictError';
}

/** The request is invalid in a way the schema cannot see; `field` is the body path it is about. */
export class CaInvalidError extends Error {
  override name = 'CaInvalidError';
  constructor(readonly field: string, message: string) {
    super(message);
  }
}

export const SECRET_NAMES = ['eabHmacKey', 'tsigSecret'] as const;
export type SecretName = (typeof SECRET_NAMES)[number];

export interface SavedCa {
  name: string;
  kind: CaKind;
  disabled: boolean;
  createdAt: Date;
  policy: CaPolicy;
  config: Record<string, unknown>;
  secretsSet: SecretName[];
  result: 'created' | 'updated' | 'unchanged';
}

type ConfigBody = Omit<AcmeConfigBody, 'challenge'> & { challenge: AcmeConfigBody['challenge'] };

/** The API's config, split into the stored (non-secret) config and the secrets to seal. */
export function splitAcmeConfig(body: ConfigBody): { config: AcmeConfigInput; secrets: AcmeSecrets } {
  const { eab, challenge, ...rest } = body;
  const secrets: AcmeSecrets = {};
  let storedChallenge: AcmeConfigInput['challenge'] = challenge;
  if (challenge.type === 'dns-01' && challenge.provider.kind === 'rfc2136') {
    const { tsigSecret, ...provider } = challenge.provider;
    storedChallenge = { ...challenge, provider };
    if (tsigSecret) secrets.tsigSecret = tsigSecret;
  }
  if (eab) secrets.eabHmacKey = eab.hmacKey;
  return { config: { ...rest, ...(eab ? { eabKeyId: eab.keyId } : {}), challenge: storedChallenge }, secrets };
}

function secretsSet(secrets: AcmeSecrets): SecretName[] {
  return SECRET_NAMES.filter((name) => secrets[name] !== undefined);
}

/** parseAcmeSetup, its error turned into a 400 about `config`. */
function checkedSetup(name: string, config: unknown, secrets: AcmeSecrets) {
  try {
    return parseAcmeSetup(name, config, secrets);
  } catch (err) {
    if (err instanceof AcmeSetupError) throw new CaInvalidError('config', err.message);
    throw err;
  }
}

/** JSON equality regardless of key order (jsonb does not keep it). */
function sameJson(a: unknown, b: unknown): boolean {
  const canonical = (v: unknown): unknown => Array.isArray(v) ? v.map(canonical)
    : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])])) : v;
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

/** What the audit trail keeps of a CA: everything but secret values. */
function auditView(ca: { kind: CaKind; config: unknown; policy: CaPolicy; disabled: boolean; secretsSet?: SecretName[] }) {
  return { kind: ca.kind, config: ca.config, policy: ca.policy, disabled: ca.disabled, ...(ca.secretsSet ? { secretsSet: ca.secretsSet } : {}) };
}

export interface CreateAcmeCaInput {
  name: string;
  config: ConfigBody;
  policy: CaPolicy;
  disabled: boolean;
  actor: string;
}

/** Adds ACME CA `name`; CaConflictError if any CA has that name. */
export async function createAcmeCa(em: EntityManager, box: SecretBox, input: CreateAcmeCaInput): Promise<SavedCa> {
  const split = splitAcmeConfig(input.config);
  const { config, secrets } = checkedSetup(input.name, split.config, split.secrets);
  const policy = caPolicySchema.parse(input.policy);
  const createdAt = new Date();
  return em.fork().transactional(async (tx) => {
    const rows = await tx.execute<{ id: string }[]>(
      `insert into certificate_authorities (id, name, kind, config, policy, created_at, disabled)
       values (?, ?, 'acme', ?::jsonb, ?::jsonb, ?, ?)
       on conflict (name) do nothing returning id`,
      [randomUUID(), input.name, JSON.stringify(config), JSON.stringify(policy), createdAt, input.disabled]);
    if (rows.length === 0) {
      throw new CaConflictError(`a CA named "${input.name}" already exists; change it with PUT /api/v1/cas/${input.name}`);
    }
    await writeSealed(tx, box, acmeSecretsName(input.name), secrets, true);
    // A new CA starts a new account: a leftover of a deleted CA of that name is dropped.
    await tx.execute('delete from secrets where name = ?', [acmeAccountSecretName(input.name)], 'run');
    const saved: SavedCa = {
      name: input.name, kind: 'acme', disabled: input.disabled, createdAt, policy, config, secretsSet: secretsSet(secrets), result: 'created',
    };
    await appendAudit(tx, { actor: input.actor, action: 'ca.created', targetType: 'certificate-authority', targetId: input.name, after: auditView(saved) });
    return saved;
  });
}

export interface UpdateCaInput {
  kind?: CaKind;
  config?: AcmeConfigPatch;
  policy?: CaPolicy;
  disabled?: boolean;
  actor: string;
}

/**
 * The ACME config after `patch`: given settings replace the stored ones, `null` removes one, secrets
 * left out are kept. Returns the new config and secrets and which secrets changed.
 */
function patchAcmeConfig(current: Record<string, unknown>, currentSecrets: AcmeSecrets, patch: AcmeConfigPatch) {
  const config: Record<string, unknown> = { ...current };
  const secrets: AcmeSecrets = { ...currentSecrets };
  const { eab, challenge, trustPem, ...plain } = patch;
  for (const [key, value] of Object.entries(plain)) if (value !== undefined) config[key] = value;
  if (trustPem === null) delete config.trustPem;
  else if (trustPem !== undefined) config.trustPem = trustPem;
  if (eab === null) {
    delete config.eabKeyId;
    delete secrets.eabHmacKey;
  } else if (eab) {
    if (eab.hmacKey) secrets.eabHmacKey = eab.hmacKey;
    else if (eab.keyId !== current.eabKeyId) throw new CaInvalidError('config.eab.hmacKey', 'a new key id needs its HMAC key');
    config.eabKeyId = eab.keyId;
  }
  if (challenge) {
    const split = splitAcmeConfig({ ...(config as AcmeConfigInput), challenge });
    config.challenge = split.config.challenge;
    const rfc2136 = challenge.type === 'dns-01' && challenge.provider.kind === 'rfc2136';
    if (split.secrets.tsigSecret) secrets.tsigSecret = split.secrets.tsigSecret;
    else if (!rfc2136) delete secrets.tsigSecret;
    else if (!secrets.tsigSecret) throw new CaInvalidError('config.challenge.provider.tsigSecret', 'the rfc2136 DNS provider needs its TSIG secret');
  }
  const changed = SECRET_NAMES.filter((name) => secrets[name] !== currentSecrets[name]);
  return { config, secrets, changed };
}

/** Changes CA `name`'s config (ACME only), policy or disabled flag; UnknownIssuerError if there is no such CA. */
export async function updateCa(em: EntityManager, box: SecretBox, name: string, input: UpdateCaInput): Promise<SavedCa> {
  return em.fork().transactional(async (tx) => {
    const [row] = await tx.execute<{ kind: CaKind; config: Record<string, unknown>; policy: CaPolicy; disabled: boolean; created_at: Date }[]>(
      'select kind, config, policy, disabled, created_at from certificate_authorities where name = ? for update', [name]);
    if (!row) throw new UnknownIssuerError(`no certificate authority named "${name}"`);
    if (input.kind && input.kind !== row.kind) {
      throw new CaConflictError(`CA "${name}" is of kind "${row.kind}": a CA's kind cannot change (add a new CA under another name instead)`);
    }
    if (row.kind !== 'acme' && input.config) {
      throw new CaConflictError(`CA "${name}" is the built-in CA: its config is managed by the controller; only its policy and disabled can change`);
    }
    const policy = input.policy ? caPolicySchema.parse(input.policy) : row.policy;
    const disabled = input.disabled ?? row.disabled;
    let config = row.config;
    let secrets: AcmeSecrets = {};
    let secretsChanged: SecretName[] = [];
    if (row.kind === 'acme') {
      const secretName = acmeSecretsName(name);
      const [sealed] = await tx.execute<{ sealed: Buffer }[]>('select sealed from secrets where name = ? for update', [secretName]);
      const currentSecrets = sealed ? JSON.parse(box.open(secretName, Buffer.from(sealed.sealed)).toString('utf8')) as AcmeSecrets : {};
      secrets = currentSecrets;
      if (input.config) {
        const patched = patchAcmeConfig(row.config, currentSecrets, input.config);
        const setup = checkedSetup(name, patched.config, patched.secrets);
        config = setup.config as unknown as Record<string, unknown>;
        secrets = setup.secrets;
        secretsChanged = patched.changed;
      }
    }
    const saved: SavedCa = {
      name, kind: row.kind, disabled, createdAt: new Date(row.created_at), policy, config, secretsSet: secretsSet(secrets), result: 'updated',
    };
    if (sameJson(config, row.config) && sameJson(policy, row.policy) && disabled === row.disabled && secretsChanged.length === 0) {
      return { ...saved, result: 'unchanged' };
    }
    await tx.execute('update certificate_authorities set config = ?::jsonb, policy = ?::jsonb, disabled = ? where name = ?',
      [JSON.stringify(config), JSON.stringify(policy), disabled, name], 'run');
    if (secretsChanged.length) await writeSealed(tx, box, acmeSecretsName(name), secrets, true);
    // Another CA (directory) or another account binding: the stored account belongs to the old one.
    if (row.kind === 'acme' && (config.directoryUrl !== row.config.directoryUrl || config.eabKeyId !== row.config.eabKeyId)) {
      await tx.execute('delete from secrets where name = ?', [acmeAccountSecretName(name)], 'run');
    }
    await appendAudit(tx, {
      actor: input.actor, action: 'ca.updated', targetType: 'certificate-authority', targetId: name,
      before: auditView({ kind: row.kind, config: row.config, policy: row.policy, disabled: row.disabled }),
      after: { ...auditView({ kind: row.kind, config, policy, disabled }), ...(secretsChanged.length ? { secretsChanged } : {}) },
    });
    return saved;
  });
}
