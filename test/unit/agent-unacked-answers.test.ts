// The agent keeps each job answer until the controller acks it: an answer the controller could not record
// (ack with retry) is sent again with growing delays up to a limit; an ok ack or a final refusal forgets
// it; the session's end drops what is left and stops every timer.
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { UnackedAnswers, type ResendPolicy } from '../../agent/src/session/unacked-answers.js';
import type { JobResult } from '../../proto/generated/certflow/agent/v1/JobResult.js';

const policy: ResendPolicy = { firstDelayMs: 1000, maxDelayMs: 30_000, maxResends: 10 };
const answer = { jobId: 'job-1', ok: true, error: '' };
const retryLater = { ref: 'job-1', ok: false, error: 'controller error; retry later', retry: true };

let written: JobResult[];
let logged: { msg: string; level: number; delayMs?: number }[];
let answers: UnackedAnswers;

beforeEach(() => {
  vi.useFakeTimers();
  written = [];
  logged = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => logged.push(JSON.parse(line)) });
  // random() = 1: each delay is its cap, so the schedule is exact.
  answers = new UnackedAnswers(async (result) => { written.push(result); }, log, policy, () => 1);
});
afterEach(() => {
  answers.dropAll();
  vi.useRealTimers();
});

describe('job answers waiting for an ack', () => {
  it('sends an answer refused with retry again after 1, 2, 4 … 30 s, then drops it after the last resend', async () => {
    await answers.send(answer);
    const delays: number[] = [];
    for (let resend = 1; resend <= policy.maxResends; resend++) {
      answers.onAck(retryLater);
      delays.push(logged.at(-1)!.delayMs!);
      await vi.advanceTimersByTimeAsync(logged.at(-1)!.delayMs!);
      expect(written).toHaveLength(resend + 1);
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000, 30_000, 30_000]);
    expect(written.every((w) => w === answer)).toBe(true);

    expect(answers.onAck(retryLater)).toBe(true);
    expect(logged.at(-1)).toMatchObject({ level: 50, msg: expect.stringMatching(/dropped after the last resend/) });
    expect(answers.size).toBe(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(written).toHaveLength(policy.maxResends + 1);
  });

  it('forgets an answer on an ok ack, and on a final refusal without sending it again', async () => {
    await answers.send(answer);
    await answers.send({ jobId: 'job-2', ok: true, error: '' });
    expect(answers.onAck({ ref: 'job-1', ok: true, error: '', retry: false })).toBe(true);
    expect(answers.onAck({ ref: 'job-2', ok: false, error: 'no such open job for this agent', retry: false })).toBe(true);
    expect(answers.size).toBe(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(written.map((w) => w.jobId)).toEqual(['job-1', 'job-2']);
  });

  it('leaves acks it holds no answer for (inventory reports) to the caller', async () => {
    expect(answers.onAck({ ref: 'report-1', ok: false, error: 'controller error; retry later', retry: true })).toBe(false);
  });

  it('drops what is held when the session ends: no resend fires afterwards, and later answers are not sent', async () => {
    await answers.send(answer);
    answers.onAck(retryLater);
    answers.dropAll();
    expect(answers.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    await answers.send({ jobId: 'job-3', ok: true, error: '' });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(written).toEqual([answer]);
  });
});
