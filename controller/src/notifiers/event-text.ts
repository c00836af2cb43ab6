// What a person reads about an event, whatever the channel: a title, the facts that matter, and the
// approve/reject links meant for one approver. Email, webhook (Slack/Teams) and syslog all render these.
import type { CertflowEvent, EventKind } from '../events/certflow-event.js';

export const EVENT_TITLES: Record<EventKind, string> = {
  'renewal.started': 'Renewal started',
  'approval.required': 'Approval required',
  'approval.decided': 'Approval decided',
  'certificate.issued': 'Certificate issued',
  'certificate.deployed': 'Certificate deployed',
  'validation.failed': 'Validation failed',
  'run.rolled-back': 'Run rolled back',
  'rollback.failed': 'Rollback failed',
  'run.succeeded': 'Renewal succeeded',
  'run.failed': 'Renewal failed',
  'stage.stuck': 'Stage stuck past its deadline',
  'certificate.expiring': 'Certificate expiring soon',
  'agent.offline': 'Agent offline',
  test: 'Test notification',
};

export type ApprovalLink = NonNullable<CertflowEvent['details']['approvalLinks']>[number];

/** The certificate's name as people know it: common name, else the first DNS name. */
export function certificateName(event: CertflowEvent): string | undefined {
  return event.details.commonName ?? event.details.dnsNames?.[0];
}

/** Label/value pairs of what the event says, in a fixed order, only those present. */
export function eventFacts(event: CertflowEvent): Array<[string, string]> {
  const d = event.details;
  const facts: Array<[string, string | undefined]> = [
    ['Certificate', certificateName(event)],
    ['DNS names', d.dnsNames?.join(', ')],
    ['Host', d.host],
    ['Stage', d.stage],
    ['Error', d.error],
    ['Days left', d.daysLeft === undefined ? undefined : String(d.daysLeft)],
    ['Expires', d.notAfter],
    ['Fingerprint (SHA-256)', d.fingerprintSha256],
    ['Severity', event.severity],
    ['Run', event.runId ?? undefined],
    ['Occurred', event.occurredAt],
    ['Event id', event.id],
  ];
  return facts.filter((f): f is [string, string] => f[1] !== undefined && f[1] !== '');
}

/** "[critical] Renewal failed: www.example.com" */
export function eventTitle(event: CertflowEvent): string {
  const name = certificateName(event) ?? event.details.host;
  return `${EVENT_TITLES[event.kind]}${name ? `: ${name}` : ''}`;
}

/** The links of these approvers only: a link is a credential of the approver it was made for. */
export function linksFor(event: CertflowEvent, approvers: readonly string[]): ApprovalLink[] {
  const wanted = new Set(approvers);
  return (event.details.approvalLinks ?? []).filter((link) => wanted.has(link.approver));
}
