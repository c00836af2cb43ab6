// Request and response shapes of the admin API, as zod schemas. They validate requests, type the
// handlers, generate the OpenAPI document, and give certflowctl its response types (`import type`), so
// each shape is written once. This module imports nothing but zod: the CLI must not load the ORM.
import { z } from 'zod';

/** Timestamps leave the API as ISO 8601 strings (UTC). */
const timestamp = z.string().meta({ format: 'date-time', example: '2026-01-31T12:00:00.000Z' });
const uuid = z.uuid();

/** Query numbers arrive as text; `limit=abc` or `limit=1.5` must be a 400, not a silent default. */
const queryInt = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
/** Query booleans are the words `true` and `false`, nothing looser. */
const queryBool = z.enum(['true', 'false']).default('false').transform((v) => v === 'true');

export const problemSchema = z.object({
  type: z.string().meta({ description: 'A URN naming the kind of problem' }),
  title: z.string(),
  status: z.int(),
  detail: z.string(),
});
export type Problem = z.infer<typeof problemSchema>;

export const idParams = z.strictObject({ id: uuid });

const pageQuery = {
  limit: queryInt(1, 500).default(50),
  offset: queryInt(0, 1_000_000_000).default(0),
};

const page = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), total: z.int(), limit: z.int(), offset: z.int() });

// --- health -------------------------------------------------------------------------------------

export const healthResponse = z.object({ status: z.literal('ok') });
export const readinessResponse = z.object({
  status: z.enum(['ready', 'not-ready']),
  database: z.boolean(),
  nats: z.boolean(),
  /** The agent CA is loaded and the agent gateway listens. */
  gateway: z.boolean(),
});

// --- enrolment tokens ---------------------------------------------------------------------------

export const createEnrollmentTokenBody = z
  .strictObject({
    description: z.string().max(200).optional(),
    expiresInHours: z.int().min(1).max(8760).optional().meta({ description: 'Defaults to the controller setting' }),
  })
  // A POST without a body (Fastify gives null) asks for a token with the defaults.
  .nullish();

export const enrollmentTokenResponse = z.object({
  id: z.string(),
  token: z.string().meta({ description: 'Shown once: "<id>.<secret>"' }),
  expiresAt: timestamp,
  caFingerprintSha256: z.string().meta({ description: 'SHA-256 of the agent CA certificate (hex): the pin agents enrol with' }),
  caPem: z.string(),
});
export type EnrollmentTokenResponse = z.infer<typeof enrollmentTokenResponse>;

// --- agents -------------------------------------------------------------------------------------

export const listAgentsQuery = z.strictObject({ ...pageQuery });

export const agentSummary = z.object({
  id: uuid,
  name: z.string(),
  hostname: z.string(),
  os: z.string().meta({ description: 'Distribution and release, e.g. "Debian GNU/Linux 12"' }),
  agentVersion: z.string(),
  ipAddresses: z.array(z.string()),
  enrolledAt: timestamp,
  lastCheckInAt: timestamp.nullable(),
  lastSeenAt: timestamp.nullable(),
  online: z.boolean().meta({ description: 'Seen within checkInIntervalSeconds × offlineAfterIntervals' }),
  certificateNotAfter: timestamp,
  scanProblemCount: z.int(),
});
export type AgentSummary = z.infer<typeof agentSummary>;

export const agentDetail = agentSummary.extend({
  scanProblems: z.array(z.object({ path: z.string(), message: z.string() })),
  labels: z.record(z.string(), z.string()),
  hostGroups: z.array(z.string()),
});

const labelKey = z.string().regex(/^[A-Za-z0-9]([A-Za-z0-9._/-]{0,61}[A-Za-z0-9])?$/, 'expected a label key: letters, digits and . _ / -, at most 63 characters');
export const updateAgentBody = z.strictObject({
  labels: z.record(labelKey, z.string().max(63)).refine((l) => Object.keys(l).length <= 50, 'at most 50 labels').optional(),
  hostGroups: z.array(z.string().min(1).max(100)).max(50).refine((g) => new Set(g).size === g.length, 'a host group is listed twice').optional(),
});
export type AgentDetail = z.infer<typeof agentDetail>;

export const agentPage = page(agentSummary);
export type AgentPage = z.infer<typeof agentPage>;

// --- certificates -------------------------------------------------------------------------------

export const listCertificatesQuery = z.strictObject({
  expiringWithinDays: queryInt(0, 36_500).optional().meta({ description: 'notAfter before now + days; includes expired ones' }),
  host: z.string().min(1).max(255).optional().meta({ description: 'Agent name, hostname or id' }),
  q: z.string().max(200).optional().meta({ description: 'Case-insensitive substring of the subject or a SAN' }),
  includeRemoved: queryBool.meta({ description: 'Also list certificates no longer found anywhere' }),
  ...pageQuery,
});
export type ListCertificatesQuery = z.output<typeof listCertificatesQuery>;

export const certificateSummary = z.object({
  id: uuid,
  fingerprintSha256: z.string(),
  subject: z.string(),
  issuer: z.string(),
  serialNumber: z.string(),
  sans: z.array(z.string()),
  notBefore: timestamp,
  notAfter: timestamp,
  daysLeft: z.int().meta({ description: 'Whole days until notAfter, negative once expired' }),
  keyAlgorithm: z.string(),
  keySize: z.int().nullable(),
  curve: z.string().nullable(),
  signatureAlgorithm: z.string(),
  selfSigned: z.boolean(),
  isCa: z.boolean(),
  firstSeenAt: timestamp,
  lastSeenAt: timestamp,
  locationCount: z.int().meta({ description: 'Current locations (not removed)' }),
});
export type CertificateSummary = z.infer<typeof certificateSummary>;

export const certificateLocation = z.object({
  id: uuid,
  agentId: uuid,
  agentName: z.string(),
  path: z.string(),
  position: z.int(),
  format: z.string(),
  /** Where a matching private key was found on that host (never the key). */
  keyPath: z.string().nullable(),
  firstSeenAt: timestamp,
  lastSeenAt: timestamp,
  removedAt: timestamp.nullable(),
});

/** A server configuration that uses one of the certificate's current files. */
export const certificateUse = z.object({
  agentId: uuid,
  agentName: z.string(),
  service: z.string(),
  configPath: z.string(),
  line: z.int(),
  certificatePath: z.string(),
  serverNames: z.array(z.string()),
  listen: z.array(z.object({ address: z.string().nullable(), port: z.int() })),
});

/** An endpoint currently serving the certificate as its leaf. */
export const certificateServedAt = z.object({
  agentId: uuid,
  agentName: z.string(),
  host: z.string(),
  port: z.int(),
  serverName: z.string().nullable(),
  lastSeenAt: timestamp,
});

export const certificateDetail = certificateSummary.extend({
  pem: z.string(),
  locations: z.array(certificateLocation),
  usedBy: z.array(certificateUse),
  servedAt: z.array(certificateServedAt),
});
export type CertificateDetail = z.infer<typeof certificateDetail>;

export const certificatePage = page(certificateSummary);
export type CertificatePage = z.infer<typeof certificatePage>;

// --- discovery: findings, endpoints, agent actions ------------------------------------------------

export const FINDING_KIND_NAMES = [
  'expired', 'expiring', 'weak', 'self-signed-served', 'hostname-mismatch', 'incomplete-chain', 'drift', 'unused-on-disk',
  'locked-keystore',
] as const;

export const listFindingsQuery = z.strictObject({
  kind: z.enum(FINDING_KIND_NAMES).optional().meta({ description: 'Only this kind of finding' }),
  expiringWithinDays: queryInt(0, 36_500).default(30).meta({ description: 'Horizon of the "expiring" kind' }),
  agent: uuid.optional().meta({ description: 'Only places on this agent' }),
  ...pageQuery,
});

export const findingPlace = z.object({
  agentId: uuid,
  agentName: z.string(),
  path: z.string().nullable(),
  endpoint: z.object({ host: z.string(), port: z.int(), serverName: z.string().nullable() }).nullable(),
  detail: z.string(),
});

export const finding = z.object({
  kind: z.enum(FINDING_KIND_NAMES),
  certificateId: uuid.nullable(),
  subject: z.string().nullable(),
  notAfter: timestamp.nullable(),
  places: z.array(findingPlace),
});
export type Finding = z.infer<typeof finding>;
export const findingPage = page(finding);

export const listEndpointsQuery = z.strictObject({
  agent: uuid.optional(),
  ...pageQuery,
});

export const endpointSummary = z.object({
  id: uuid,
  agentId: uuid,
  agentName: z.string(),
  host: z.string(),
  port: z.int(),
  serverName: z.string().nullable(),
  source: z.string(),
  ok: z.boolean(),
  error: z.string().nullable(),
  protocol: z.string().nullable(),
  leafCertificateId: uuid.nullable(),
  leafSubject: z.string().nullable(),
  leafNotAfter: timestamp.nullable(),
  chainLength: z.int(),
  chainComplete: z.boolean().nullable(),
  nameMismatch: z.boolean().nullable(),
  firstSeenAt: timestamp,
  lastSeenAt: timestamp,
});
export type EndpointSummary = z.infer<typeof endpointSummary>;
export const endpointPage = page(endpointSummary);

export const agentJobResponse = z.object({ jobId: uuid, kind: z.string(), state: z.string() });

const cidr = z.string().min(2).max(64).regex(/^[0-9A-Fa-f:.]+(\/\d{1,3})?$/, 'expected an address or CIDR range');
export const networkScanBody = z.strictObject({
  ranges: z.array(cidr).max(256),
  ports: z.array(z.int().min(1).max(65_535)).max(64),
});

// --- audit trail ------------------------------------------------------------------------------------

export const auditQuery = z.strictObject({
  actor: z.string().max(255).optional(),
  action: z.string().max(255).optional(),
  targetType: z.string().max(255).optional(),
  targetId: z.string().max(255).optional(),
  since: z.iso.datetime().optional().meta({ description: 'ISO 8601; entries at or after' }),
  until: z.iso.datetime().optional().meta({ description: 'ISO 8601; entries before' }),
  after: queryInt(0, Number.MAX_SAFE_INTEGER).default(0).meta({ description: 'Only entries with a higher sequence number (paging)' }),
  limit: queryInt(1, 1000).default(100),
});

export const auditEntry = z.object({
  seq: z.int(),
  at: timestamp,
  actor: z.string(),
  action: z.string(),
  targetType: z.string(),
  targetId: z.string().nullable(),
  before: z.unknown(),
  after: z.unknown(),
  prevHash: z.string(),
  hash: z.string(),
});
export type AuditEntry = z.infer<typeof auditEntry>;
export const auditPage = z.object({ items: z.array(auditEntry), nextAfter: z.int().nullable() });

export const auditVerdict = z.object({
  ok: z.boolean(),
  entries: z.int(),
  firstBroken: z.object({ seq: z.int(), reason: z.string() }).nullable(),
});

// --- keys made on hosts -------------------------------------------------------------------------------

export const KEY_TYPE_NAMES = ['ecdsa-p256', 'ecdsa-p384', 'rsa-2048', 'rsa-3072', 'rsa-4096'] as const;

export const makeCsrBody = z.strictObject({
  keyType: z.enum(KEY_TYPE_NAMES).default('ecdsa-p256'),
  commonName: z.string().max(64).default(''),
  dnsNames: z.array(z.string().min(1).max(253).regex(/^(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.?$/, 'expected a DNS name')).max(100).default([]),
  ipAddresses: z.array(z.union([z.ipv4(), z.ipv6()])).max(100).default([]),
  keyId: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'expected [a-z0-9-], at most 64 characters').optional()
    .meta({ description: 'Names the key in the agent\'s key store; generated when absent' }),
}).refine((b) => b.commonName || b.dnsNames.length || b.ipAddresses.length, { message: 'a CSR needs a commonName or at least one name' });

export const agentJobDetail = z.object({
  id: uuid,
  agentId: uuid,
  kind: z.string(),
  state: z.string(),
  requestedBy: z.string(),
  createdAt: timestamp,
  sentAt: timestamp.nullable(),
  finishedAt: timestamp.nullable(),
  error: z.string().nullable(),
  result: z.record(z.string(), z.unknown()).nullable(),
});

// --- admin tokens -------------------------------------------------------------------------------------

export const ADMIN_ROLE_NAMES = ['admin', 'operator', 'approver', 'auditor'] as const;

export const createAdminTokenBody = z.strictObject({
  name: z.string().min(1).max(100).regex(/^[A-Za-z0-9._@-]+$/, 'letters, digits and . _ @ - only'),
  role: z.enum(ADMIN_ROLE_NAMES),
  expiresInDays: z.int().min(1).max(3650).optional().meta({ description: 'No expiry when absent' }),
});

export const adminTokenSummary = z.object({
  id: uuid,
  name: z.string(),
  role: z.enum(ADMIN_ROLE_NAMES),
  createdAt: timestamp,
  expiresAt: timestamp.nullable(),
  lastUsedAt: timestamp.nullable(),
  revokedAt: timestamp.nullable(),
});
export type AdminTokenSummary = z.infer<typeof adminTokenSummary>;
export const adminTokenList = z.object({ items: z.array(adminTokenSummary) });
export const createdAdminToken = adminTokenSummary.extend({ token: z.string().meta({ description: 'Shown once' }) });
