// A task run again and again with a pause between runs (never overlapping itself), that stops cleanly:
// stop() waits for a run in progress. Failures are logged and the next run comes as usual.
import type { Logger } from '../log.js';

export class PeriodicTask {
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private running: Promise<unknown> | null = null;

  constructor(
    private readonly what: string,
    private readonly run: () => Promise<unknown>,
    private readonly intervalMs: number,
    private readonly log: Logger,
  ) {}

  start(firstDelayMs = this.intervalMs): void {
    const loop = async () => {
      if (this.stopped) return;
      this.running = this.run().catch((err) => this.log.warn({ err: (err as Error).message }, `${this.what} failed`));
      await this.running;
      if (!this.stopped) this.timer = setTimeout(loop, this.intervalMs);
    };
    this.timer = setTimeout(loop, firstDelayMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
