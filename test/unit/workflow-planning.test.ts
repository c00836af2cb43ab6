// The workflow's pure decisions: when a certificate is due, how targets are batched, maintenance windows,
// and how long a failing certificate waits.
import { describe, expect, it } from 'vitest';
import { computeRenewAfter } from '../../controller/src/scheduler/renewal-window.js';
import { planBatches } from '../../controller/src/workflow/stages/deploy.js';
import { inMaintenanceWindow } from '../../controller/src/workflow/maintenance-window.js';
import { failureBackoffMs } from '../../controller/src/workflow/run-transitions.js';
import { stageAfter } from '../../controller/src/workflow/stage-names.js';

const DAY = 86_400_000;
const notBefore = new Date('2026-01-01T00:00:00Z');
const notAfter = new Date(notBefore.getTime() + 90 * DAY);
const renewal = { daysBeforeExpiry: 30, useAri: true, jitterMinutes: 0 };

describe('renewal window', () => {
  it('renews N days before expiry by default', () => {
    expect(computeRenewAfter({ notBefore, notAfter, renewal, random: () => 0.5 })).toEqual(new Date(notAfter.getTime() - 30 * DAY));
  });

  it('takes the earliest of days-before-expiry and percent-of-lifetime', () => {
    // 50 % of 90 days left = 45 days before expiry: earlier than 30 days.
    expect(computeRenewAfter({ notBefore, notAfter, renewal: { ...renewal, percentOfLifetime: 50 }, random: () => 0 }))
      .toEqual(new Date(notAfter.getTime() - 45 * DAY));
    // 10 % = 9 days: later, so 30 days wins.
    expect(computeRenewAfter({ notBefore, notAfter, renewal: { ...renewal, percentOfLifetime: 10 }, random: () => 0 }))
      .toEqual(new Date(notAfter.getTime() - 30 * DAY));
  });

  it('takes a moment inside the ARI window when it is earlier, and ignores it when ARI is off', () => {
    const ariWindow = { start: new Date(notAfter.getTime() - 60 * DAY), end: new Date(notAfter.getTime() - 50 * DAY) };
    expect(computeRenewAfter({ notBefore, notAfter, renewal, ariWindow, random: () => 0.5 })).toEqual(new Date(notAfter.getTime() - 55 * DAY));
    expect(computeRenewAfter({ notBefore, notAfter, renewal: { ...renewal, useAri: false }, ariWindow, random: () => 0.5 }))
      .toEqual(new Date(notAfter.getTime() - 30 * DAY));
  });

  it('jitter only moves renewals earlier, never past the threshold', () => {
    const base = notAfter.getTime() - 30 * DAY;
    for (const r of [0, 0.3, 0.999]) {
      const at = computeRenewAfter({ notBefore, notAfter, renewal: { ...renewal, jitterMinutes: 60 }, random: () => r }).getTime();
      expect(at).toBeLessThanOrEqual(base);
      expect(base - at).toBeLessThanOrEqual(60 * 60_000);
    }
  });
});

describe('deploy batches', () => {
  it('puts the canary alone first, then batches of batchSize', () => {
    expect(planBatches(7, 1, 3)).toEqual([[0], [1, 2, 3], [4, 5, 6]]);
    expect(planBatches(3, 1, 1)).toEqual([[0], [1], [2]]);
    expect(planBatches(4, 2, 10)).toEqual([[0, 1], [2, 3]]);
  });

  it('copes with one target, a canary larger than the fleet, and no targets', () => {
    expect(planBatches(1, 1, 10)).toEqual([[0]]);
    expect(planBatches(2, 5, 10)).toEqual([[0, 1]]);
    expect(planBatches(0, 1, 10)).toEqual([]);
  });
});

describe('maintenance windows', () => {
  const at = (iso: string) => new Date(iso);
  it('honours days, hours and the time zone', () => {
    const window = [{ days: ['sat', 'sun'], start: '02:00', end: '04:00', timeZone: 'Europe/Berlin' }];
    // 2026-11-28 is a Saturday; 02:30 in Berlin is 01:30 UTC.
    expect(inMaintenanceWindow(window, at('2026-11-28T01:30:00Z'))).toBe(true);
    expect(inMaintenanceWindow(window, at('2026-11-28T03:30:00Z'))).toBe(false);
    // A Friday.
    expect(inMaintenanceWindow(window, at('2026-11-27T01:30:00Z'))).toBe(false);
  });

  it('a window past midnight belongs to the day it opens', () => {
    const window = [{ days: ['fri'], start: '22:00', end: '02:00', timeZone: 'UTC' }];
    expect(inMaintenanceWindow(window, at('2026-11-27T23:00:00Z'))).toBe(true); // Friday night
    expect(inMaintenanceWindow(window, at('2026-11-28T01:00:00Z'))).toBe(true); // Saturday early, window opened Friday
    expect(inMaintenanceWindow(window, at('2026-11-29T01:00:00Z'))).toBe(false); // Sunday early
  });
});

describe('failure backoff and stage order', () => {
  it('waits 1 h, doubling up to 32 h', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 10].map((n) => failureBackoffMs(n) / 3600_000)).toEqual([1, 2, 4, 8, 16, 32, 32, 32]);
  });

  it('orders the stages as the design says, rollback outside the order', () => {
    const order = ['discover'];
    let next = stageAfter('discover');
    while (next) {
      order.push(next);
      next = stageAfter(next);
    }
    expect(order).toEqual(['discover', 'trigger', 'select-ca', 'approve-issue', 'issue', 'approve-deploy', 'deploy', 'validate', 'notify']);
    expect(stageAfter('rollback')).toBeNull();
  });
});
