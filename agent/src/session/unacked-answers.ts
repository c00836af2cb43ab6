// Job answers the controller has not acknowledged yet. The controller acks each answer: ok (recorded), a
// final refusal (no such open job: it timed out or was answered already), or "retry" (it could not record
// it now: Postgres refused a connection, a deadlock). Answers refused with retry are sent again after a
// growing, jittered delay, so a short database outage does not leave the job unanswered until the agent
// reconnects or the waiting stage times out. What is still held when the session ends is dropped: the
// controller sends unanswered jobs again to the next session, and the agent answers them again with the
// same result (docs/workflow.md, "Jobs sent again").
import type { Logger } from 'pino';
import type { Ack__Output } from '../../../proto/generated/certflow/agent/v1/Ack.js';
import type { JobResult } from '../../../proto/generated/certflow/agent/v1/JobResult.js';
import { reconnectDelayMs } from './backoff.js';

export interface ResendPolicy {
  /** The first resend waits between half of this and this; each later one up to twice as long. */
  firstDelayMs: number;
  maxDelayMs: number;
  /** After this many resends refused with retry, the answer is dropped (logged as an error). */
  maxResends: number;
}

/** About 1, 2, 4, 8, 16 then 30 s apart (jittered), ten resends: a few minutes, within a stage's job timeout. */
export const ANSWER_RESEND_POLICY: ResendPolicy = { firstDelayMs: 1000, maxDelayMs: 30_000, maxResends: 10 };

interface HeldAnswer {
  result: JobResult & { jobId: string };
  resends: number;
  timer: NodeJS.Timeout | null;
}

export class UnackedAnswers {
  private readonly held = new Map<string, HeldAnswer>();
  private closed = false;

  constructor(
    private readonly write: (result: JobResult) => Promise<void>,
    private readonly log: Logger,
    private readonly policy: ResendPolicy = ANSWER_RESEND_POLICY,
    // Jitter: a fleet refused at the same moment (the controller's database overloaded) does not come back at once.
    private readonly random: () => number = Math.random,
  ) {}

  /** Sends a job's answer and keeps it until the controller acks it. */
  async send(result: JobResult & { jobId: string }): Promise<void> {
    if (this.closed) return;
    // A newer answer to the same job (it was delivered again) replaces the one held.
    this.forget(result.jobId);
    this.held.set(result.jobId, { result, resends: 0, timer: null });
    await this.write(result);
  }

  /** Takes an ack about a held answer and returns true; false for any other ack (an inventory report's). */
  onAck(ack: Ack__Output): boolean {
    const answer = this.held.get(ack.ref);
    if (!answer) return false;
    const jobId = ack.ref;
    if (ack.ok) {
      this.held.delete(jobId);
    } else if (!ack.retry) {
      this.held.delete(jobId);
      this.log.warn({ jobId, error: ack.error }, 'controller refused the job answer; it is not sent again');
    } else if (answer.resends >= this.policy.maxResends) {
      this.held.delete(jobId);
      this.log.error({ jobId, error: ack.error, resends: answer.resends },
        'controller could not record the job answer; dropped after the last resend (the job is sent again on reconnect or its stage times out)');
    } else {
      const delayMs = reconnectDelayMs(answer.resends, this.random, this.policy.firstDelayMs, this.policy.maxDelayMs);
      answer.resends += 1;
      this.log.warn({ jobId, error: ack.error, resend: answer.resends, delayMs },
        'controller could not record the job answer; sending it again later');
      answer.timer = setTimeout(() => void this.resend(answer), delayMs);
    }
    return true;
  }

  /** The session ended: no more resends. The controller sends the jobs still unanswered to the next session. */
  dropAll(): void {
    this.closed = true;
    const jobIds = [...this.held.keys()];
    for (const jobId of jobIds) this.forget(jobId);
    if (jobIds.length > 0) this.log.info({ jobIds }, 'session ended with job answers not acknowledged; the controller sends those jobs again');
  }

  /** How many answers wait for an ack. */
  get size(): number {
    return this.held.size;
  }

  private async resend(answer: HeldAnswer): Promise<void> {
    answer.timer = null;
    if (this.closed || this.held.get(answer.result.jobId) !== answer) return;
    this.log.info({ jobId: answer.result.jobId, resend: answer.resends }, 'job answer sent again');
    try {
      await this.write(answer.result);
    } catch (err) {
      // The stream broke: the session is ending, and the job is sent again to the next one.
      this.log.warn({ jobId: answer.result.jobId, error: (err as Error).message }, 'job answer could not be sent again');
    }
  }

  private forget(jobId: string): void {
    const answer = this.held.get(jobId);
    if (answer?.timer) clearTimeout(answer.timer);
    this.held.delete(jobId);
  }
}
