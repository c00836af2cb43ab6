// Publishes outbox rows to JetStream. Every replica runs a relay; `for update skip locked` lets them
// share the rows without waiting on each other. A row's published mark commits only after JetStream
// acknowledged it; a relay that dies in between leaves it unpublished, the row is published again, and
// JetStream drops the duplicate by its message id (within the stream's duplicate window).
import type { MikroORM } from '@mikro-orm/postgresql';
import type { JetStreamClient, NatsConnection } from 'nats';
import type { Logger } from '../log.js';
import { onOutboxKick } from './outbox.js';

export interface OutboxRelayOptions {
  pollMs?: number;
  batch?: number;
  /** Published rows are kept this long for inspection, then deleted. */
  keepPublishedMs?: number;
}

export class OutboxRelay {
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private again = false;
  private stopped = false;
  private lastCleanup = 0;
  private readonly js: JetStreamClient;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly orm: MikroORM,
    nc: NatsConnection,
    private readonly log: Logger,
    private readonly options: OutboxRelayOptions = {},
  ) {
    this.js = nc.jetstream();
    this.unsubscribe = onOutboxKick(() => this.kick());
  }

  start(): void {
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe();
    if (this.timer) clearTimeout(this.timer);
    while (this.running) await new Promise((r) => setTimeout(r, 20));
  }

  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), ms);
  }

  private async tick(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    let published = 0;
    try {
      published = await this.publishBatch();
      await this.cleanup();
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'outbox relay: publishing failed; will retry');
    } finally {
      this.running = false;
    }
    const more = published >= (this.options.batch ?? 200) || this.again;
    this.again = false;
    this.schedule(more ? 0 : this.options.pollMs ?? 250);
  }

  /**
   * Publishes one batch; returns how many rows it published. The rows are marked published and locked by
   * one statement, in a transaction that commits only after JetStream acknowledged every one of them: a
   * failed publish rolls the marks back.
   */
  async publishBatch(): Promise<number> {
    const batch = this.options.batch ?? 200;
    const em = this.orm.em.fork();
    return em.transactional(async (tx) => {
      const rows = await tx.execute<{ id: string; msg_id: string; subject: string; payload: unknown }[]>(
        `update outbox set published_at = now()
          where id in (select id from outbox where published_at is null order by id limit ? for update skip locked)
          returning id, msg_id, subject, payload`,
        [batch], 'all',
      );
      if (rows.length === 0) return 0;
      // In the order they were written (update ... returning keeps none).
      rows.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
      await Promise.all(rows.map((row) =>
        this.js.publish(row.subject, JSON.stringify(row.payload), { msgID: row.msg_id, timeout: 5000 })));
      return rows.length;
    });
  }

  private async cleanup(): Promise<void> {
    const now = Date.now();
    if (now - this.lastCleanup < 60_000) return;
    this.lastCleanup = now;
    const keepMs = this.options.keepPublishedMs ?? 3600_000;
    await this.orm.em.fork().execute(
      `delete from outbox where published_at is not null and published_at < now() - (? * interval '1 millisecond')`, [keepMs], 'run');
  }
}
