// The payloads of deploy, validate and rollback agent jobs: what the workflow's deploy/validate/rollback
// stages and the admin API put in AgentJob.payload, checked once here, and how each becomes the contract's
// message when the job is sent. Target options are not checked here: the agent checks them with its own
// schemas and its own allowedPaths and command allowlist, which the controller can never widen.
// Fingerprints are SHA-256 of the leaf's DER, lowercase hex (the inventory's form).
import { X509Certificate, randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { DeployJob } from '../../../proto/generated/certflow/agent/v1/DeployJob.js';
import type { Job } from '../../../proto/generated/certflow/agent/v1/Job.js';
import type { RollbackJob } from '../../../proto/generated/certflow/agent/v1/RollbackJob.js';
import type { ValidateJob } from '../../../proto/generated/certflow/agent/v1/ValidateJob.js';

export const DEPLOY_TARGET_KINDS = ['nginx', 'apache', 'haproxy', 'file', 'pkcs12'] as const;
export type DeployTargetKind = (typeof DEPLOY_TARGET_KINDS)[number];

export interface TlsEndpoint {
  host: string;
  port: number;
  /** SNI and the name checked; the host when absent. */
  serverName?: string;
}

export interface DeployJobPayload {
  /** Chosen by the controller; the agent never applies one deploy id twice (it answers with the earlier result). */
  deployId: string;
  /** The key in the agent's key store (from the MakeCsr job): the key never travels. */
  keyId: string;
  certificatePem: string;
  chainPem: string;
  /** The agent's own target option schemas (agent/src/deploy/<kind>-target.ts). */
  targets: { kind: DeployTargetKind; options: Record<string, unknown> }[];
  /** Validated after the reload. */
  endpoints: TlsEndpoint[];
  /** The issuing CA's root(s), for chain validation; absent: the public roots. */
  trustedRootsPem?: string;
  /** true: the agent rolls back itself when its own validation fails (automatic policy). */
  rollbackOnFailure: boolean;
  /** PKCS#12 targets: the name of the controller secret holding the keystore password (opened only when the job is sent). */
  pkcs12PasswordSecret?: string;
  /** A key shared from another host, sealed to this agent's identity key (the contract's EncryptedKey). */
  encryptedKey?: EncryptedKeyPayload;
}

/** The contract's EncryptedKey: ciphertext only the recipient agent opens; binary fields base64. */
export interface EncryptedKeyPayload {
  algorithm: string;
  keyId: string;
  runId: string;
  senderAgentId: string;
  recipientAgentId: string;
  publicKeySha256: string;
  encapsulatedKey: string;
  iv: string;
  ciphertext: string;
  tag: string;
}

export interface ValidateJobPayload {
  endpoints: TlsEndpoint[];
  expectedFingerprintSha256: string;
  trustedRootsPem?: string;
}

export interface RollbackJobPayload {
  deployId: string;
  endpoints: TlsEndpoint[];
  /** The certificate served before the deploy, to prove it is served again; absent: not checked. */
  expectedFingerprintSha256?: string;
}

export class JobPayloadError extends Error {
  override name = 'JobPayloadError';
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Every certificate block must parse; `min` blocks at least. */
const certificatesPem = (what: string, min: number) => z.string().max(256 * 1024).superRefine((text, ctx) => {
  const blocks = text.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length < min) ctx.addIssue({ code: 'custom', message: `${what}: expected ${min === 1 ? 'a' : 'at least ' + min} PEM certificate${min === 1 ? '' : 's'}` });
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `${what}: a certificate does not parse (${(err as Error).message})` });
      return;
    }
  }
});

/** Accepts hex with or without colons, any case; stores lowercase hex. */
export const fingerprintSchema = z.string().transform((s) => s.replaceAll(':', '').toLowerCase())
  .pipe(z.string().regex(/^[0-9a-f]{64}$/, 'expected a SHA-256 fingerprint (64 hex digits)'));

export const deployIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'expected [A-Za-z0-9._-], at most 128 characters');

export const tlsEndpointSchema = z.strictObject({
  host: z.string().min(1).max(253),
  port: z.int().min(1).max(65_535),
  serverName: z.string().min(1).max(253).optional(),
});

export const deployTargetSchema = z.strictObject({
  kind: z.enum(DEPLOY_TARGET_KINDS),
  options: z.record(z.string(), z.unknown()).meta({ description: 'The agent\'s own options for this kind (configFile, certificatePath, keyPath, ...)' }),
});

const base64 = (max: number) => z.string().max(max).regex(/^[A-Za-z0-9+/]*={0,2}$/, 'expected base64');

export const deployJobPayloadSchema = z.strictObject({
  deployId: deployIdSchema,
  keyId: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'expected [a-z0-9-], at most 64 characters'),
  certificatePem: certificatesPem('certificatePem', 1).refine((t) => (t.match(PEM_CERTIFICATE) ?? []).length === 1, 'certificatePem: the leaf alone'),
  chainPem: certificatesPem('chainPem', 0).default(''),
  targets: z.array(deployTargetSchema).min(1).max(50),
  endpoints: z.array(tlsEndpointSchema).max(100),
  trustedRootsPem: certificatesPem('trustedRootsPem', 1).optional(),
  rollbackOnFailure: z.boolean(),
  pkcs12PasswordSecret: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'expected the name of a secret (PUT /api/v1/secrets/NAME)').optional()
    .meta({ description: 'PKCS#12 targets: the controller secret holding the keystore password; the job never stores the password' }),
  encryptedKey: z.strictObject({
    algorithm: z.string().max(64), keyId: z.string().max(64), runId: z.string().max(64), senderAgentId: z.string().max(64),
    recipientAgentId: z.string().max(64), publicKeySha256: z.string().max(64),
    encapsulatedKey: base64(2048), iv: base64(64), ciphertext: base64(8192), tag: base64(64),
  }).optional().meta({ description: 'A key shared from another host, sealed to this agent\'s identity key (the controller cannot open it)' }),
});

export const validateJobPayloadSchema = z.strictObject({
  endpoints: z.array(tlsEndpointSchema).min(1).max(100),
  expectedFingerprintSha256: fingerprintSchema,
  trustedRootsPem: certificatesPem('trustedRootsPem', 1).optional(),
});

export const rollbackJobPayloadSchema = z.strictObject({
  deployId: deployIdSchema,
  endpoints: z.array(tlsEndpointSchema).max(100),
  expectedFingerprintSha256: fingerprintSchema.optional(),
});

function parse<S extends z.ZodType>(kind: string, schema: S, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new JobPayloadError(`${kind} job: "${issue.path.join('.') || '(root)'}": ${issue.message}`);
  }
  return parsed.data;
}

/** A fresh deploy id, for callers that have none of their own (the workflow uses its run and target). */
export function newDeployId(): string {
  return `d-${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`;
}

/** The checked payload of a deploy job, ready for createAgentJob; throws JobPayloadError naming the bad field. */
export function deployJobPayload(input: DeployJobPayload): Record<string, unknown> {
  return parse('deploy', deployJobPayloadSchema, input);
}

export function validateJobPayload(input: ValidateJobPayload): Record<string, unknown> {
  return parse('validate', validateJobPayloadSchema, input);
}

export function rollbackJobPayload(input: RollbackJobPayload): Record<string, unknown> {
  return parse('rollback', rollbackJobPayloadSchema, input);
}

const endpointMessage = (e: TlsEndpoint) => ({ host: e.host, port: e.port, serverName: e.serverName ?? '' });

/** The contract's Job for a stored job: most kinds go as stored, deploy jobs carry their target options as JSON. */
export function jobMessage(job: { id: string; kind: string; payload: Record<string, unknown> }, opened: { pkcs12Password?: string } = {}): Job {
  switch (job.kind) {
    case 'deploy': {
      const p = job.payload as unknown as DeployJobPayload;
      const deploy: DeployJob = {
        deployId: p.deployId, keyId: p.keyId, certificatePem: p.certificatePem, chainPem: p.chainPem ?? '',
        targets: p.targets.map((t) => ({ kind: t.kind, optionsJson: JSON.stringify({ ...t.options, kind: t.kind }) })),
        endpoints: p.endpoints.map(endpointMessage), trustedRootsPem: p.trustedRootsPem ?? '', rollbackOnFailure: p.rollbackOnFailure,
        pkcs12Password: opened.pkcs12Password ?? '',
        ...(p.encryptedKey ? { encryptedKey: p.encryptedKey } : {}),
      };
      return { jobId: job.id, deploy };
    }
    case 'validate': {
      const p = job.payload as unknown as ValidateJobPayload;
      const validate: ValidateJob = { endpoints: p.endpoints.map(endpointMessage), expectedFingerprintSha256: p.expectedFingerprintSha256, trustedRootsPem: p.trustedRootsPem ?? '' };
      return { jobId: job.id, validate };
    }
    case 'rollback': {
      const p = job.payload as unknown as RollbackJobPayload;
      const rollback: RollbackJob = { deployId: p.deployId, endpoints: p.endpoints.map(endpointMessage), expectedFingerprintSha256: p.expectedFingerprintSha256 ?? '' };
      return { jobId: job.id, rollback };
    }
    default:
      return { jobId: job.id, [job.kind]: job.payload };
  }
}
