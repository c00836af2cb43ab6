// Every step of a deploy and of a rollback is timed and logged the same way, and a failure comes out as a
// StepFailedError naming the step, so the result can say exactly where it stopped and why.
import type { Logger } from 'pino';

export interface StepTiming {
  step: string;
  ms: number;
  ok: boolean;
}

export class StepFailedError extends Error {
  override name = 'StepFailedError';
  constructor(readonly step: string, cause: unknown) {
    super(`${step} failed: ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
}

export class StepTimer {
  readonly timings: StepTiming[] = [];

  constructor(private readonly log: Logger, private readonly prefix = '') {}

  async run<T>(step: string, work: () => Promise<T>): Promise<T> {
    const name = this.prefix + step;
    const started = performance.now();
    try {
      const value = await work();
      this.record(name, started, true);
      return value;
    } catch (err) {
      this.record(name, started, false);
      throw err instanceof StepFailedError ? err : new StepFailedError(name, err);
    }
  }

  private record(step: string, started: number, ok: boolean): void {
    const ms = Math.round((performance.now() - started) * 10) / 10;
    this.timings.push({ step, ms, ok });
    this.log.info({ step, ms, ok }, 'deploy step finished');
  }
}
