// Chains the audit entries the workflow wrote to audit_pending (see audit-trail.ts): a pass shortly
// after a transaction wrote some (coalesced: one pass serves many commits), and a poll
// that catches entries whose transaction committed after the pass looked. Every replica runs one; they
// take turns on the chain's lock. stop() chains what is left.
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from '../log.js';
import { chainPendingAudit, onAuditPending } from './audit-trail.js';

// Long enough that under load one pass chains what many commits wrote (each pass is a transaction on
// the chain's lock); short enough that the trail is complete a moment after the change. Readers of the
// trail (API list, export, verify) chain what is pending first, so they never miss an entry.
const KICK_DELAY_MS = 150;

export class AuditSequencer {
  private timer: NodeJS.Timeout | null = null;
  private timerDueAt = 0;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private unsubscribe: (() => void) | null = null;

  constructor(private readonly orm: MikroORM, private readonly log: Logger, private readonly pollMs = 500) {}

  start(): void {
    this.unsubscribe = onAuditPending(() => this.schedule(KICK_DELAY_MS));
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    await chainPendingAudit(this.orm.em.fork()).catch((err) => this.log.warn({ err: (err as Error).message }, 'audit sequencer: final pass failed'));
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    const dueAt = Date.now() + delayMs;
    if (this.timer) {
      // A pass is already due sooner: it serves this request too (steady kicks must not postpone it).
      if (this.timerDueAt <= dueAt) return;
      clearTimeout(this.timer);
    }
    this.timerDueAt = dueAt;
    this.timer = setTimeout(() => this.pass(), delayMs);
  }

  private pass(): void {
    this.timer = null;
    this.again = false;
    this.running = chainPendingAudit(this.orm.em.fork())
      .then(() => undefined)
      .catch((err) => this.log.warn({ err: (err as Error).message }, 'audit sequencer: pass failed; the next one retries'))
      .finally(() => {
        this.running = null;
        this.schedule(this.again ? KICK_DELAY_MS : this.pollMs);
      });
  }
}
