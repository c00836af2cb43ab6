// The events certflow publishes on its JetStream event stream (subject `<prefix>.events.<kind>`), for
// notifiers and live views. The workflow writes them to the outbox in the same transaction as the state
// change they describe; the relay publishes them with the event id as the JetStream message id, so a
// relay that crashes and publishes again is deduplicated.
import { z } from 'zod';

export const EVENT_KINDS = [
  'renewal.started',
  'approval.required',
  'approval.decided',
  'certificate.issued',
  'certificate.deployed',
  'validation.failed',
  'run.rolled-back',
  'rollback.failed',
  'run.succeeded',
  'run.failed',
  'stage.stuck',
  'certificate.expiring',
  'agent.offline',
  'test',
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export const certflowEventSchema = z.object({
  /** Unique, stable across re-publication: the deduplication key everywhere downstream. */
  id: z.string().uuid(),
  kind: z.enum(EVENT_KINDS),
  occurredAt: z.string().datetime(),
  /** One line a person can read: what happened, to what. */
  summary: z.string(),
  severity: z.enum(['info', 'warning', 'critical']),
  runId: z.string().uuid().nullable(),
  /** The managed certificate (workflow) or inventory certificate (expiry, discovery) concerned. */
  managedCertificateId: z.string().uuid().nullable(),
  templateId: z.string().uuid().nullable(),
  /** Facts notifiers show: names, host, stage, error, days left, fingerprint, approval links, ... */
  details: z.object({
    commonName: z.string().optional(),
    dnsNames: z.array(z.string()).optional(),
    host: z.string().optional(),
    agentId: z.string().optional(),
    stage: z.string().optional(),
    error: z.string().optional(),
    daysLeft: z.number().optional(),
    notAfter: z.string().optional(),
    fingerprintSha256: z.string().optional(),
    /** approval.required: the approvers' signed links, by approver (token id) — only for the notifier that sends to that approver. */
    approvalLinks: z.array(z.object({ approver: z.string(), approveUrl: z.string(), rejectUrl: z.string() })).optional(),
  }).passthrough(),
});
export type CertflowEvent = z.infer<typeof certflowEventSchema>;
