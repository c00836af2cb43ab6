// Routing (template rules, channel defaults, silencing) and the message formats that need no server:
// RFC 5424 framing and escaping, digest ids, retry backoff.
import { describe, expect, it } from 'vitest';
import { retryDelayMs } from '../../controller/src/notifiers/deliveries.js';
import { uuidFromName } from '../../controller/src/notifiers/email/expiry-digest.js';
import { routeEvent } from '../../controller/src/notifiers/routing.js';
import { formatRfc5424, octetCounted, truncateUtf8 } from '../../controller/src/notifiers/syslog/rfc5424.js';
import { parseRfc5424 } from '../support/notification-receivers.js';

const channels = [
  { name: 'pager', enabled: true, defaultEvents: ['run.failed', 'rollback.failed'] },
  { name: 'siem', enabled: true, defaultEvents: ['*'] },
  { name: 'muted', enabled: false, defaultEvents: ['*'] },
  { name: 'mail', enabled: true, defaultEvents: [] },
];

describe('routeEvent', () => {
  it('uses channel defaults without template rules; * is every kind but test', () => {
    expect(routeEvent('run.failed', null, channels)).toEqual(['pager', 'siem']);
    expect(routeEvent('certificate.issued', null, channels)).toEqual(['siem']);
    expect(routeEvent('test', null, channels)).toEqual([]);
  });

  it('lets template rules decide for the kinds they name, and defaults for the rest', () => {
    const rules = [{ events: ['run.failed'], channels: ['mail'] }, { events: ['approval.required'], channels: ['mail', 'muted', 'typo'] }];
    expect(routeEvent('run.failed', rules, channels)).toEqual(['mail']);
    expect(routeEvent('approval.required', rules, channels)).toEqual(['mail', 'typo']);
    expect(routeEvent('rollback.failed', rules, channels)).toEqual(['pager', 'siem']);
    expect(routeEvent('run.failed', [{ events: ['*'], channels: [] }], channels)).toEqual([]);
  });
});

describe('RFC 5424', () => {
  const message = formatRfc5424({
    facility: 'local0', severity: 'crit', timestamp: new Date('2026-11-28T10:00:00.123Z'), hostname: 'ctl 1', appName: 'certflow', procId: '42',
    msgId: 'run.failed', structuredData: { certflow: { eventId: 'e1', error: 'a "quoted" ] \\ value', empty: '', missing: undefined } }, message: 'Zertifikat für café',
  });

  it('formats header, structured data and a UTF-8 message', () => {
    expect(message).toBe('<130>1 2026-11-28T10:00:00.123Z ctl_1 certflow 42 run.failed [certflow@32473 eventId="e1" error="a \\"quoted\\" \\] \\\\ value"] \uFEFFZertifikat für café');
    expect(parseRfc5424(message)).toMatchObject({ facility: 16, severity: 2, structuredData: { 'certflow@32473': { eventId: 'e1', error: 'a "quoted" ] \\ value' } } });
  });

  it('frames by octet count and cuts UDP messages on a character boundary', () => {
    const framed = octetCounted(message).toString('utf8');
    expect(framed.startsWith(`${Buffer.byteLength(message)} <130>`)).toBe(true);
    expect(truncateUtf8('aé', 2).toString('utf8')).toBe('a');
  });
});

describe('delivery helpers', () => {
  it('derives the same digest id for the same channel and day', () => {
    expect(uuidFromName('digest:ops:2026-11-28')).toBe(uuidFromName('digest:ops:2026-11-28'));
    expect(uuidFromName('digest:ops:2026-11-28')).not.toBe(uuidFromName('digest:ops:2026-11-29'));
    expect(uuidFromName('x')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('backs off exponentially with jitter, at most an hour', () => {
    for (let i = 0; i < 50; i++) {
      expect(retryDelayMs(30, 1)).toBeGreaterThanOrEqual(24_000);
      expect(retryDelayMs(30, 1)).toBeLessThanOrEqual(36_000);
      expect(retryDelayMs(30, 3)).toBeGreaterThanOrEqual(96_000);
      expect(retryDelayMs(30, 20)).toBeLessThanOrEqual(3_600_000 * 1.2);
    }
  });
});
