// Syslog for SIEMs: each event as one RFC 5424 message, its fields in structured data.
import { hostname } from 'node:os';
import type { CertflowEvent } from '../../events/certflow-event.js';
import { certificateName } from '../event-text.js';
import type { Notifier, SendResult } from '../notifier.js';
import { formatRfc5424, type SyslogSeverity } from './rfc5424.js';
import { syslogConfigSchema, syslogSecretsSchema, type SyslogConfig, type SyslogSecrets } from './syslog-config.js';
import { sendSyslog } from './syslog-transport.js';

const SEVERITY: Record<CertflowEvent['severity'], SyslogSeverity> = { info: 'info', warning: 'warning', critical: 'crit' };

export function eventSyslogMessage(event: CertflowEvent, config: SyslogConfig, deliveryId?: string): string {
  const d = event.details;
  return formatRfc5424({
    facility: config.facility,
    severity: SEVERITY[event.severity],
    timestamp: new Date(event.occurredAt),
    hostname: config.hostname ?? hostname(),
    appName: config.appName,
    procId: String(process.pid),
    msgId: event.kind,
    structuredData: {
      certflow: {
        eventId: event.id, kind: event.kind, severity: event.severity, runId: event.runId, templateId: event.templateId,
        managedCertificateId: event.managedCertificateId, certificate: certificateName(event), host: d.host, stage: d.stage,
        error: d.error, daysLeft: d.daysLeft, notAfter: d.notAfter, fingerprintSha256: d.fingerprintSha256, delivery: deliveryId,
      },
    },
    message: event.summary,
  });
}

export const syslogNotifier: Notifier<SyslogConfig, SyslogSecrets> = {
  kind: 'syslog',
  configSchema: syslogConfigSchema,
  secretsSchema: syslogSecretsSchema,
  check(config, secrets) {
    if (config.clientCertPem && !secrets.clientKeyPem) return 'clientCertPem needs its key in secrets.clientKeyPem';
    if ((config.clientCertPem || config.caPem) && config.transport !== 'tls') return 'caPem and clientCertPem apply to transport "tls" only';
    return null;
  },
  async send(event, config, secrets, signal, context): Promise<SendResult> {
    await sendSyslog(config, secrets, [eventSyslogMessage(event, config, context?.deliveryId)], signal);
    return { providerMessageId: `${config.transport} ${event.kind}` };
  },
};
