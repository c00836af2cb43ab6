// A workflow template's document: which certificates it adopts and how their renewals run (thresholds,
// key, CA, approval, deployment, notifications, rollback). Parsing fills in every default, so a stored
// version is complete and a run that used it reads exactly what it ran with, whatever later code
// defaults to. Objects are strict: a misspelt field is refused, never silently ignored.
//
// This module imports nothing but zod (and the event kinds, themselves zod only): certflowctl and the
// workflow engine can use it without loading the ORM. The checks that need the database (CA names,
// agent ids, token ids, overlapping match rules) live in validate-template.ts.
import { z } from 'zod';
import { EVENT_KINDS } from '../events/certflow-event.js';

/** Template names are slugs: they appear in URLs, CLI arguments and audit entries. */
export const templateNameSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/,
  'expected a lower-case slug: letters, digits and -, at most 63 characters, not starting with -');

export const KEY_TYPES = ['ecdsa-p256', 'ecdsa-p384', 'rsa-2048', 'rsa-3072', 'rsa-4096'] as const;
export const DEPLOY_TARGET_KINDS = ['nginx', 'apache', 'haproxy', 'file', 'pkcs12'] as const;
export const APPROVER_ROLES = ['admin', 'operator', 'approver'] as const;
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

const labelKey = z.string().regex(/^[A-Za-z0-9]([A-Za-z0-9._/-]{0,61}[A-Za-z0-9])?$/,
  'expected a label key: letters, digits and . _ / -, at most 63 characters');
const labels = z.record(labelKey, z.string().max(63));
const nonEmptyLabels = labels.refine((l) => Object.keys(l).length > 0, 'name at least one label, or leave the field out');
const uniqueStrings = <T extends z.ZodType<string>>(item: T, what: string) =>
  z.array(item).min(1, `list at least one ${what}, or leave the field out`)
    .refine((items) => new Set(items).size === items.length, `the same ${what} is listed twice`);

/**
 * A DNS name or a wildcard of one: 'example.com', '*.example.com'. As in TLS, '*' stands for exactly one
 * label, and only as the whole leftmost label. Kept lower-case without a trailing dot.
 */
const dnsPattern = z.string().max(253)
  .transform((s) => s.toLowerCase().replace(/\.$/, ''))
  .pipe(z.string().regex(/^(\*\.)?([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)+$/,
    "expected a DNS name such as 'example.com' or a wildcard such as '*.example.com' (a whole leftmost label only)"));

/** A DNS suffix: 'example.com' covers example.com and every name under it. */
const dnsSuffix = z.string().max(253)
  .transform((s) => s.toLowerCase().replace(/^\./, '').replace(/\.$/, ''))
  .pipe(z.string().regex(/^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/,
    "expected a DNS suffix such as 'example.com'"));

/** Names of things configured elsewhere (CAs, notification channels): slugs, like template names. */
const refName = (what: string) => z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, `expected the name of a ${what} (a lower-case slug)`);

export const matchSchema = z.strictObject({
  /** Every one of these labels, with this value. */
  labels: nonEmptyLabels.optional(),
  /** Each host group the certificate is deployed in is one of these. */
  hostGroups: uniqueStrings(z.string().min(1).max(100), 'host group').optional(),
  /** Each DNS name of the certificate matches one of these. */
  domainPatterns: uniqueStrings(dnsPattern, 'domain pattern').optional(),
  /** The issuer DN contains one of these (case-insensitive). */
  issuers: uniqueStrings(z.string().min(1).max(500), 'issuer').optional(),
}).refine((m) => Object.values(m).some((v) => v !== undefined),
  'an empty match would adopt every certificate: name labels, hostGroups, domainPatterns or issuers, or use null for no auto-adoption');
export type TemplateMatch = z.output<typeof matchSchema>;

const renewalSchema = z.strictObject({
  daysBeforeExpiry: z.int().min(1).max(3650).default(30),
  /** Renew when this percentage of the certificate's lifetime remains. */
  percentOfLifetime: z.number().min(1, 'must be between 1 and 99').max(99, 'must be between 1 and 99').optional(),
  /** Follow the CA's ACME Renewal Information window when it offers one. */
  useAri: z.boolean().default(true),
  /** Spreads renewals that fall due together over this many minutes. */
  jitterMinutes: z.int().min(0).max(1440).default(60),
});

const keySchema = z.strictObject({
  type: z.enum(KEY_TYPES).default('ecdsa-p256'),
  /** A certificate on several hosts: one key per host (one certificate each), or one key shared by all. */
  multiHost: z.enum(['per-host', 'shared']).default('per-host'),
  /**
   * "shared" only: the agent that makes the key (and must allow exporting it, keys.allowExport) when it is
   * one of the targets' agents; otherwise the first target's agent.
   */
  sharedKeyAgent: z.uuid().optional(),
});

const caPolicyEntry = z.strictObject({
  ca: refName('certificate authority'),
  /** The entry applies only when all of these hold; the first entry that applies picks the CA. */
  when: z.strictObject({
    domainSuffixes: uniqueStrings(dnsSuffix, 'domain suffix').optional(),
    keyTypes: uniqueStrings(z.enum(KEY_TYPES), 'key type').optional(),
    labels: nonEmptyLabels.optional(),
  }).optional(),
});

const caSchema = z.strictObject({
  policy: z.array(caPolicyEntry).min(1, 'name at least one CA').max(20).default(() => [{ ca: 'builtin' }]),
  validityDays: z.int().min(1).max(3650).optional(),
  /**
   * For ACME CAs that validate with http-01: where the target's agent answers, over the CA's own setting.
   * The agent still serves only on ports its acme.http01.ports lists, and writes only under allowedPaths.
   */
  http01: z.strictObject({
    port: z.int().min(1).max(65_535).optional(),
    bindAddress: z.union([z.ipv4(), z.ipv6()]).optional(),
    /** Write the tokens under this webroot's .well-known/acme-challenge/ instead of listening. */
    webroot: z.string().regex(/^\//, 'expected an absolute path').max(4096).optional(),
  }).optional(),
});

const approvalLevel = z.strictObject({
  name: z.string().min(1).max(100),
  approvers: z.strictObject({
    roles: uniqueStrings(z.enum(APPROVER_ROLES), 'role').optional(),
    tokens: uniqueStrings(z.uuid('expected an admin token id'), 'token').optional(),
  }).refine((a) => (a.roles?.length ?? 0) + (a.tokens?.length ?? 0) > 0, 'a level needs approvers: name roles or admin token ids'),
  /** How many distinct approvers must approve before the next level (or the stage) may start. */
  required: z.int().min(1, 'at least one approval must be required').max(100),
}).superRefine((level, ctx) => {
  const tokens = level.approvers.tokens?.length ?? 0;
  if (!level.approvers.roles && tokens > 0 && level.required > tokens) {
    ctx.addIssue({ code: 'custom', path: ['required'], message: `${level.required} approvals required but only ${tokens} approver token(s) named` });
  }
});

const approvalGate = z.strictObject({
  before: z.enum(['issue', 'deploy']),
  /** A pending approval past this raises an event. */
  deadlineHours: z.int().min(1).max(720).default(24),
  levels: z.array(approvalLevel).min(1, 'a gate needs at least one level').max(10),
}).superRefine((gate, ctx) => {
  gate.levels.forEach((level, i) => {
    if (gate.levels.findIndex((l) => l.name === level.name) !== i) {
      ctx.addIssue({ code: 'custom', path: ['levels', i, 'name'], message: `level name "${level.name}" is used twice` });
    }
  });
});

const approvalSchema = z.strictObject({
  gates: z.array(approvalGate).max(2).default(() => []),
}).superRefine((approval, ctx) => {
  approval.gates.forEach((gate, i) => {
    if (approval.gates.findIndex((g) => g.before === gate.before) !== i) {
      ctx.addIssue({ code: 'custom', path: ['gates', i, 'before'], message: `there is already a gate before ${gate.before}` });
    }
  });
});

const hhmm = /^([01]\d|2[0-3]):[0-5]\d$/;

// Zones found valid, remembered (a stored template is parsed again and again); only valid names are kept,
// so the set is bounded by the IANA database whatever the API is sent.
const knownTimeZones = new Set<string>();

function isTimeZone(name: string): boolean {
  if (knownTimeZones.has(name)) return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    knownTimeZones.add(name);
    return true;
  } catch {
    return false;
  }
}

/**
 * When deployments may happen. `end` before `start` runs over midnight (into the next day); a window
 * belongs to the day it starts on. `end` may be '24:00'.
 */
const maintenanceWindow = z.strictObject({
  days: uniqueStrings(z.enum(WEEKDAYS), 'day').optional(),
  start: z.string().regex(hhmm, "expected a time 'HH:MM' from 00:00 to 23:59"),
  end: z.string().regex(/^(([01]\d|2[0-3]):[0-5]\d|24:00)$/, "expected a time 'HH:MM' from 00:00 to 24:00"),
  timeZone: z.string().min(1).max(100).refine(isTimeZone, 'unknown time zone: expected an IANA name such as Europe/Paris or UTC'),
}).superRefine((w, ctx) => {
  if (w.start === w.end) {
    ctx.addIssue({ code: 'custom', path: ['end'], message: 'the window is empty: end equals start' });
  }
});

const deployTarget = z.strictObject({
  agentId: z.uuid('expected an agent id'),
  kind: z.enum(DEPLOY_TARGET_KINDS),
  /** Kind-specific (paths, service, reload command name); the agent checks them against its own config. */
  options: z.record(z.string(), z.unknown()).default(() => ({})),
  /** Where to prove the new certificate is served; defaults to what discovery knows for the target. */
  endpoints: z.array(z.strictObject({
    host: z.string().min(1).max(253),
    port: z.int().min(1).max(65_535),
    serverName: z.string().min(1).max(253).optional(),
  })).max(100).optional(),
});

const deploySchema = z.strictObject({
  /** Deploy to the places the certificate was discovered in (files, server configs). */
  fromDiscovery: z.boolean().default(true),
  targets: z.array(deployTarget).max(500).default(() => []),
  batchSize: z.int().min(1).max(1000).default(10),
  /** How many targets go first, alone, and must validate before the rest. */
  canary: z.int().min(1).max(1000).default(1),
  maintenanceWindows: z.array(maintenanceWindow).min(1, 'list at least one window, or leave the field out').max(50).optional(),
}).superRefine((deploy, ctx) => {
  if (!deploy.fromDiscovery && deploy.targets.length === 0) {
    ctx.addIssue({ code: 'custom', path: ['targets'], message: 'nothing would be deployed: name targets or set fromDiscovery' });
  }
});

const notificationRule = z.strictObject({
  events: uniqueStrings(z.enum([...EVENT_KINDS, '*'], { error: `expected an event kind (${EVENT_KINDS.join(', ')}) or '*'` }), 'event'),
  channels: uniqueStrings(refName('notification channel'), 'channel'),
});

export const templateDocumentSchema = z.strictObject({
  description: z.string().max(500).optional(),
  /** Auto-adoption: certificates matching this are managed with this template. null: only by hand. */
  match: matchSchema.nullable().default(null),
  renewal: renewalSchema.prefault({}),
  key: keySchema.prefault({}),
  ca: caSchema.prefault({}),
  approval: approvalSchema.prefault({}),
  deploy: deploySchema.prefault({}),
  notifications: z.strictObject({ rules: z.array(notificationRule).max(50).default(() => []) }).prefault({}),
  rollback: z.strictObject({ policy: z.enum(['automatic', 'manual']).default('automatic') }).prefault({}),
}).superRefine((doc, ctx) => {
  // The threshold must fall inside the lifetime, or every new certificate would be due at once.
  const validity = doc.ca.validityDays;
  if (validity !== undefined && doc.renewal.daysBeforeExpiry >= validity) {
    ctx.addIssue({
      code: 'custom', path: ['renewal', 'daysBeforeExpiry'],
      message: `${doc.renewal.daysBeforeExpiry} days before expiry is not inside the ${validity}-day lifetime set by ca.validityDays`,
    });
  }
});

export type TemplateDocument = z.output<typeof templateDocumentSchema>;
export type TemplateDocumentInput = z.input<typeof templateDocumentSchema>;

/** Every default: the built-in template `default`. */
export function defaultTemplateDocument(): TemplateDocument {
  return templateDocumentSchema.parse({});
}
