// The agent's timing decisions: when to renew its own certificate, and how long to wait before
// reconnecting.
import { describe, expect, it } from 'vitest';
import { identityRenewalDue } from '../../agent/src/identity/renew.js';
import { reconnectDelayMs } from '../../agent/src/session/backoff.js';
import { makeCertificate } from '../support/certificates.js';

describe('identity renewal', () => {
  it('is due once less than a third of the certificate lifetime is left', async () => {
    const start = new Date('2026-01-01T00:00:00Z');
    const cert = await makeCertificate({ commonName: 'agent', notBefore: start, notAfter: new Date('2026-01-31T00:00:00Z') });
    expect(identityRenewalDue(cert.pem, 1 / 3, new Date('2026-01-15T00:00:00Z'))).toBe(false);
    expect(identityRenewalDue(cert.pem, 1 / 3, new Date('2026-01-22T00:00:00Z'))).toBe(true);
    expect(identityRenewalDue(cert.pem, 1 / 3, new Date('2026-02-02T00:00:00Z'))).toBe(true);
  });
});

describe('reconnect delay', () => {
  it('grows with each attempt up to a minute and is never below half a second', () => {
    expect(reconnectDelayMs(0, () => 0)).toBe(500);
    expect(reconnectDelayMs(0, () => 1)).toBe(1000);
    expect(reconnectDelayMs(3, () => 1)).toBe(8000);
    expect(reconnectDelayMs(30, () => 1)).toBe(60_000);
  });

  it('spreads agents that lost the controller together over the whole window', () => {
    const delays = Array.from({ length: 200 }, () => reconnectDelayMs(6));
    expect(Math.min(...delays)).toBeLessThan(20_000);
    expect(Math.max(...delays)).toBeGreaterThan(44_000);
  });
});
