// The per-CA order limit: never more than N orders at once per CA, the rest in arrival order, other CAs
// unaffected, and a waiter that gives up leaves the line.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { withOrderSlot } from '../../controller/src/issuers/acme/order-slots.js';

describe('withOrderSlot', () => {
  it('runs at most max at once per CA, in arrival order, and other CAs are not held up', async () => {
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    const job = (i: number) => async () => {
      started.push(i);
      running++;
      peak = Math.max(peak, running);
      await sleep(20);
      running--;
      return i;
    };
    const other = withOrderSlot('ca-b', 1, async () => 'b');
    const results = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => withOrderSlot('ca-a', 2, job(i))));
    expect(results).toEqual([0, 1, 2, 3, 4, 5]);
    expect(peak).toBe(2);
    expect(started).toEqual([0, 1, 2, 3, 4, 5]);
    expect(await other).toBe('b');
  });

  it('a waiter aborted while in line leaves it; a failing order frees its slot', async () => {
    const hold = withOrderSlot('ca-c', 1, () => sleep(30));
    const controller = new AbortController();
    const waiting = withOrderSlot('ca-c', 1, async () => 'never', controller.signal);
    controller.abort(new Error('gave up'));
    await expect(waiting).rejects.toThrow('gave up');
    await hold;
    await expect(withOrderSlot('ca-c', 1, async () => { throw new Error('CA said no'); })).rejects.toThrow('CA said no');
    expect(await withOrderSlot('ca-c', 1, async () => 'next')).toBe('next');
  });
});
