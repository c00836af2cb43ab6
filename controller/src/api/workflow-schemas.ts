// Request and response shapes of the workflow part of the admin API: managed certificates, runs and
// approvals. zod only, like schemas.ts, so certflowctl can import the types without the ORM.
import { z } from 'zod';

const timestamp = z.string().meta({ format: 'date-time' });
const uuid = z.uuid();
const queryInt = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

export const RUN_STATE_NAMES = ['running', 'waiting-approval', 'waiting-operator', 'rollback-failed', 'succeeded', 'failed', 'rejected', 'cancelled', 'rolled-back'] as const;

const dnsName = z.string().max(253).transform((s) => s.toLowerCase().replace(/\.$/, ''))
  .pipe(z.string().regex(/^(\*\.)?[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)+$/, 'expected a DNS name'));
const labels = z.record(z.string().regex(/^[A-Za-z0-9]([A-Za-z0-9._/-]{0,61}[A-Za-z0-9])?$/), z.string().max(63));

export const declaredTarget = z.strictObject({
  agentId: uuid,
  kind: z.enum(['nginx', 'apache', 'haproxy', 'file', 'pkcs12']),
  options: z.record(z.string(), z.unknown()).meta({ description: "The agent's own options for this kind (configFile, certificatePath, keyPath, ...)" }),
  endpoints: z.array(z.strictObject({ host: z.string().min(1).max(253), port: z.int().min(1).max(65535), serverName: z.string().min(1).max(253).optional() })).max(100).optional(),
});

export const createManagedBody = z.strictObject({
  /** The template it renews with (default: "default"). */
  template: z.string().min(1).max(63).default('default'),
  /** Adopt this inventory certificate (id or SHA-256 fingerprint)... */
  certificate: z.string().min(1).max(100).optional(),
  /** ...or declare a new one with these names. */
  dnsNames: z.array(dnsName).min(1).max(100).optional(),
  ipAddresses: z.array(z.union([z.ipv4(), z.ipv6()])).max(20).optional(),
  name: z.string().regex(/^[a-z0-9*][a-z0-9.*_-]{0,127}$/, 'expected a lower-case name: letters, digits, . _ - *').optional(),
  labels: labels.optional(),
  targets: z.array(declaredTarget).max(100).optional(),
}).refine((b) => (b.certificate === undefined) !== (b.dnsNames === undefined), {
  message: 'give either "certificate" (adopt a discovered certificate) or "dnsNames" (declare a new one), not both',
  path: ['certificate'],
});

export const updateManagedBody = z.strictObject({
  state: z.enum(['active', 'paused', 'retired']).optional(),
  template: z.string().min(1).max(63).optional(),
  labels: labels.optional(),
  targets: z.array(declaredTarget).max(100).optional(),
});

export const listManagedQuery = z.strictObject({
  state: z.enum(['active', 'paused', 'retired']).optional(),
  template: z.string().max(63).optional(),
  q: z.string().max(200).optional(),
  limit: queryInt(1, 500).default(50),
  offset: queryInt(0, 1_000_000_000).default(0),
});

export const managedSummary = z.object({
  id: uuid,
  name: z.string(),
  template: z.string(),
  dnsNames: z.array(z.string()),
  ipAddresses: z.array(z.string()),
  labels: z.record(z.string(), z.string()),
  targets: z.array(declaredTarget),
  state: z.string(),
  adoptedBy: z.string(),
  currentFingerprintSha256: z.string().nullable(),
  currentNotAfter: timestamp.nullable(),
  renewAfter: timestamp.nullable(),
  consecutiveFailures: z.int(),
  backoffUntil: timestamp.nullable(),
  lastRun: z.object({ id: uuid, state: z.string(), createdAt: timestamp }).nullable(),
  activeRunId: uuid.nullable(),
});
export type ManagedSummary = z.infer<typeof managedSummary>;
export const managedPage = z.object({ items: z.array(managedSummary), total: z.int(), limit: z.int(), offset: z.int() });

export const listRunsQuery = z.strictObject({
  state: z.enum(RUN_STATE_NAMES).optional(),
  active: z.enum(['true', 'false']).optional(),
  managedCertificate: uuid.optional(),
  limit: queryInt(1, 500).default(50),
  offset: queryInt(0, 1_000_000_000).default(0),
});

export const runSummary = z.object({
  id: uuid,
  managedCertificateId: uuid,
  certificate: z.string(),
  dnsNames: z.array(z.string()),
  template: z.string(),
  templateVersion: z.int(),
  state: z.string(),
  currentStage: z.string(),
  reason: z.string(),
  requestedBy: z.string(),
  error: z.string().nullable(),
  createdAt: timestamp,
  finishedAt: timestamp.nullable(),
  durationMs: z.int().nullable(),
});
export type RunSummary = z.infer<typeof runSummary>;
export const runPage = z.object({ items: z.array(runSummary), total: z.int(), limit: z.int(), offset: z.int() });

export const stageView = z.object({
  stage: z.string(),
  state: z.string(),
  attempts: z.int(),
  startedAt: timestamp.nullable(),
  finishedAt: timestamp.nullable(),
  /** From first start to finish (or now), waiting included. */
  elapsedMs: z.int().nullable(),
  /** Time spent in the stage's handler, summed over attempts. */
  activeMs: z.int(),
  output: z.record(z.string(), z.unknown()).nullable(),
  error: z.string().nullable(),
  history: z.array(z.object({ attempt: z.int(), startedAt: z.string(), finishedAt: z.string(), outcome: z.string(), error: z.string().optional() })),
});
export type StageView = z.infer<typeof stageView>;

export const approvalView = z.object({
  id: uuid,
  runId: uuid,
  gate: z.string(),
  level: z.int(),
  levelName: z.string(),
  required: z.int(),
  approvers: z.object({ roles: z.array(z.string()).optional(), tokens: z.array(z.string()).optional() }),
  state: z.string(),
  deadlineAt: timestamp,
  createdAt: timestamp,
  decidedAt: timestamp.nullable(),
  decisions: z.array(z.object({ approver: z.string(), approverTokenId: z.string(), decision: z.string(), comment: z.string().nullable(), via: z.string(), at: timestamp })),
  certificate: z.string().optional(),
  dnsNames: z.array(z.string()).optional(),
});
export type ApprovalView = z.infer<typeof approvalView>;
export const approvalList = z.object({ items: z.array(approvalView) });

export const runDetail = runSummary.extend({
  stages: z.array(stageView),
  approvals: z.array(approvalView),
  context: z.record(z.string(), z.unknown()),
});
export type RunDetail = z.infer<typeof runDetail>;

export const decisionBody = z.strictObject({
  decision: z.enum(['approve', 'reject', 'bypass']),
  comment: z.string().max(1000).optional(),
});

export const listApprovalsQuery = z.strictObject({
  state: z.enum(['pending', 'approved', 'rejected', 'bypassed', 'cancelled']).default('pending'),
  runId: uuid.optional(),
});
