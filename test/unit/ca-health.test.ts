// select-ca's shared health checks: one check in flight per CA, a healthy answer reused briefly, an
// unhealthy one never.
import { describe, expect, it } from 'vitest';
import { sharedHealth } from '../../controller/src/workflow/ca-health.js';

function countingIssuer(answers: boolean[]) {
  let calls = 0;
  return {
    get calls() { return calls; },
    async health() {
      const healthy = answers[Math.min(calls, answers.length - 1)]!;
      calls += 1;
      await new Promise((r) => setTimeout(r, 20));
      return { healthy, detail: healthy ? 'ok' : 'directory unreachable' };
    },
  };
}

describe('shared CA health checks', () => {
  it('runs checking one CA at the same moment share one check, and a healthy answer stands briefly', async () => {
    const issuer = countingIssuer([true]);
    const answers = await Promise.all(Array.from({ length: 50 }, () => sharedHealth('ca-shared', issuer)));
    expect(answers.every((a) => a.healthy)).toBe(true);
    expect(issuer.calls).toBe(1);
    await sharedHealth('ca-shared', issuer);
    expect(issuer.calls).toBe(1);
    // Later than the window: asked again.
    await sharedHealth('ca-shared', issuer, undefined, Date.now() + 60_000);
    expect(issuer.calls).toBe(2);
  });

  it('does not keep an unhealthy answer: the next run asks again and sees the CA back', async () => {
    const issuer = countingIssuer([false, true]);
    expect((await sharedHealth('ca-flaky', issuer)).healthy).toBe(false);
    expect((await sharedHealth('ca-flaky', issuer)).healthy).toBe(true);
    expect(issuer.calls).toBe(2);
  });

  it('a run that is cancelled stops waiting without cancelling the check for the others', async () => {
    const issuer = countingIssuer([true]);
    const abort = new AbortController();
    const cancelled = sharedHealth('ca-abort', issuer, abort.signal);
    const other = sharedHealth('ca-abort', issuer);
    abort.abort(new Error('stage timed out'));
    await expect(cancelled).rejects.toThrow('stage timed out');
    expect((await other).healthy).toBe(true);
    expect(issuer.calls).toBe(1);
  });
});
