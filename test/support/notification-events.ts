// Sample certflow events for notifier tests.
import { randomUUID } from 'node:crypto';
import type { CertflowEvent, EventKind } from '../../controller/src/events/certflow-event.js';

export function sampleEvent(kind: EventKind = 'run.failed', overrides: Partial<CertflowEvent> = {}, details: CertflowEvent['details'] = {}): CertflowEvent {
  return {
    id: randomUUID(),
    kind,
    occurredAt: new Date().toISOString(),
    summary: `Renewal of shop.example.com failed at deploy: nginx -t refused the config`,
    severity: 'critical',
    runId: randomUUID(),
    managedCertificateId: randomUUID(),
    templateId: null,
    details: {
      commonName: 'shop.example.com', dnsNames: ['shop.example.com', 'www.shop.example.com'], host: 'web-01', stage: 'deploy',
      error: 'nginx: [emerg] cannot load certificate', daysLeft: 12, notAfter: '2026-12-10T00:00:00.000Z', ...details,
    },
    ...overrides,
  };
}
