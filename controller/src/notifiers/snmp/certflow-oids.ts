// certflow's SNMP object identifiers, as defined in deploy/CERTFLOW-MIB.txt (a test checks the two agree
// with snmptranslate). PLACEHOLDER ARC: 1.3.6.1.4.1.32473 is the enterprise number IANA reserves for
// documentation (RFC 5612); certflow has no Private Enterprise Number of its own yet. An installation that
// has its own PEN can move the tree by editing the MIB and CERTFLOW_MIB_ROOT together.
import type { EventKind } from '../../events/certflow-event.js';

export const CERTFLOW_MIB_ROOT = '1.3.6.1.4.1.32473.1';
export const NOTIFICATIONS = `${CERTFLOW_MIB_ROOT}.0`;
export const OBJECTS = `${CERTFLOW_MIB_ROOT}.1`;

/** NOTIFICATION-TYPE per event kind: certflowNotifications.N */
export const NOTIFICATION_OIDS: Record<EventKind, string> = {
  'renewal.started': `${NOTIFICATIONS}.1`,
  'approval.required': `${NOTIFICATIONS}.2`,
  'approval.decided': `${NOTIFICATIONS}.3`,
  'certificate.issued': `${NOTIFICATIONS}.4`,
  'certificate.deployed': `${NOTIFICATIONS}.5`,
  'validation.failed': `${NOTIFICATIONS}.6`,
  'run.rolled-back': `${NOTIFICATIONS}.7`,
  'rollback.failed': `${NOTIFICATIONS}.8`,
  'run.succeeded': `${NOTIFICATIONS}.9`,
  'run.failed': `${NOTIFICATIONS}.10`,
  'stage.stuck': `${NOTIFICATIONS}.11`,
  'certificate.expiring': `${NOTIFICATIONS}.12`,
  'agent.offline': `${NOTIFICATIONS}.13`,
  test: `${NOTIFICATIONS}.14`,
};

/** Varbind objects (accessible-for-notify scalars); sent as instance `.0`. */
export const OBJECT_OIDS = {
  eventId: `${OBJECTS}.1`,
  eventKind: `${OBJECTS}.2`,
  severity: `${OBJECTS}.3`,
  summary: `${OBJECTS}.4`,
  certificate: `${OBJECTS}.5`,
  host: `${OBJECTS}.6`,
  stage: `${OBJECTS}.7`,
  error: `${OBJECTS}.8`,
  daysLeft: `${OBJECTS}.9`,
  runId: `${OBJECTS}.10`,
  notAfter: `${OBJECTS}.11`,
} as const;

/** Names in the MIB, for the test that checks both agree. */
export const MIB_NAMES: Record<string, string> = {
  ...Object.fromEntries(Object.entries(NOTIFICATION_OIDS).map(([kind, oid]) => [
    `certflow${kind.split(/[.-]/).map((w) => w[0].toUpperCase() + w.slice(1)).join('')}`, oid])),
  ...Object.fromEntries(Object.entries(OBJECT_OIDS).map(([name, oid]) => [`certflow${name[0].toUpperCase()}${name.slice(1)}`, oid])),
};

export const SEVERITY_VALUES = { info: 1, warning: 2, critical: 3 } as const;
