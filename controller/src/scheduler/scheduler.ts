// The renewal scheduler. Every replica runs the loop; each sweep takes a transaction-scoped advisory
// lock first, so only one replica sweeps at a time (a leader per sweep: a dead leader holds nothing).
// A sweep (1) lets templates adopt new inventory certificates, (2) recomputes renewal times after a
// template changed, (3) starts runs for certificates whose window opened, oldest first, at most
// `maxStartsPerSweep` at a time, so a restart after downtime does not start everything at once, in
// batches of a few statements each (startDueRuns). The one-active-run unique index is the last word
// against duplicates.
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from '../log.js';
import type { Subjects } from '../messaging/subjects.js';
import { ManagedCertificate } from '../db/entities/managed-certificate.js';
import { kickOutbox } from '../workflow/outbox.js';
import { PeriodicTask } from '../workflow/periodic-task.js';
import { startDueRuns } from '../workflow/runs.js';
import { adoptByTemplates } from './adoption.js';
import { computeRenewAfter } from './renewal-window.js';
import { getTemplateVersion } from '../templates/template-store.js';
import { watchFleet, type FleetWatchOptions } from './fleet-watch.js';
import { FINISHED_RUN_STATES_SQL } from '../db/entities/workflow-run.js';

const SCHEDULER_LOCK_KEY = 0x63667363; // "cfsc"

/**
 * Runs started per transaction: a handful of statements start a whole batch, and the runner can take up
 * the first batch while the sweep writes the next.
 */
const START_BATCH = 50;

export interface SchedulerOptions {
  intervalMs: number;
  maxStartsPerSweep: number;
  /** agent.offline and certificate.expiring events; off when absent. */
  fleet?: FleetWatchOptions;
}

export interface SweepResult {
  swept: boolean;
  adopted: number;
  rescheduled: number;
  started: number;
  /** Fleet events raised (agent.offline, certificate.expiring). */
  raised: number;
}

export class RenewalScheduler {
  private readonly task: PeriodicTask;

  constructor(private readonly orm: MikroORM, private readonly subjects: Subjects, private readonly log: Logger, private readonly options: SchedulerOptions) {
    this.task = new PeriodicTask('scheduler: sweep', () => this.sweep(), options.intervalMs, log);
  }

  start(): void {
    // Replicas started together do not all sweep in the same instant.
    this.task.start(Math.random() * Math.min(1000, this.options.intervalMs));
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  async sweep(now: Date = new Date()): Promise<SweepResult> {
    const began = performance.now();
    // The leader's lock lives in a transaction that does nothing else, held until the whole sweep is done:
    // the sweep's own work commits in several transactions (on other connections), so runs are worked as
    // each batch of starts commits, not when the last one does. A leader that dies drops its connection
    // and with it the lock; what it committed is whole (each transaction is), the rest never happened.
    const result = await this.orm.em.fork().transactional(async (leader) => {
      const [lock] = await leader.execute<{ locked: boolean }[]>('select pg_try_advisory_xact_lock(?) as locked', [SCHEDULER_LOCK_KEY]);
      if (!lock?.locked) return { swept: false, adopted: 0, rescheduled: 0, started: 0, raised: 0 };
      return this.sweepAsLeader(now);
    });
    if (result.started > 0) this.log.info({ ...result, ms: Math.round(performance.now() - began) }, 'scheduler: sweep');
    return result;
  }

  private async sweepAsLeader(now: Date): Promise<SweepResult> {
    // Adoption and rescheduling commit before the due certificates are chosen, so a certificate adopted
    // or rescheduled in this sweep is chosen by its new renewal time.
    const { adopted, rescheduled, raised, due } = await this.orm.em.fork().transactional(async (tx) => {
      const adopted = await adoptByTemplates(tx, now);
      const rescheduled = await rescheduleChangedTemplates(tx);
      const raised = this.options.fleet ? await watchFleet(tx, this.subjects, this.options.fleet, now) : 0;
      return { adopted, rescheduled, raised, due: await this.dueCertificates(tx, now) };
    });
    if (raised > 0) kickOutbox();
    let started = 0;
    for (let i = 0; i < due.length; i += START_BATCH) {
      const batch = due.slice(i, i + START_BATCH);
      started += await this.orm.em.fork().transactional((tx) => startDueRuns(tx, this.subjects, batch, now));
      kickOutbox();
    }
    return { swept: true, adopted, rescheduled, started, raised };
  }

  /** Certificates whose window opened, oldest first, at most maxStartsPerSweep. */
  private async dueCertificates(tx: EntityManager, now: Date): Promise<string[]> {
    const due = await tx.execute<{ id: string }[]>(
      `select m.id from managed_certificates m
        where m.state = 'active' and m.renew_after <= ? and (m.backoff_until is null or m.backoff_until <= ?)
          and not exists (select 1 from workflow_runs r where r.managed_certificate_id = m.id
                            and r.state not in ${FINISHED_RUN_STATES_SQL})
        order by m.renew_after limit ?`,
      [now, now, this.options.maxStartsPerSweep]);
    return due.map((row) => row.id);
  }
}

/** A new template version may change thresholds: recompute renewal times made with an older one. */
async function rescheduleChangedTemplates(tx: EntityManager): Promise<number> {
  // Per template, through the (template_id, renewal_computed_with_version) index: versions only grow, so
  // "older than current, or never computed" is two index ranges, not a scan of every managed certificate.
  const templates = await tx.execute<{ id: string; current_version: number }[]>('select id, current_version from templates');
  const stale: { id: string }[] = [];
  for (const t of templates) {
    if (stale.length >= 500) break;
    stale.push(...await tx.execute<{ id: string }[]>(
      `select id from managed_certificates
        where template_id = ? and (renewal_computed_with_version < ? or renewal_computed_with_version is null)
          and state = 'active' and current_not_after is not null
        limit ?`, [t.id, t.current_version, 500 - stale.length]));
  }
  for (const { id } of stale) {
    const managed = await tx.findOneOrFail(ManagedCertificate, { id });
    const template = await getTemplateVersion(tx, managed.templateId);
    managed.renewAfter = computeRenewAfter({
      notBefore: managed.currentNotBefore!, notAfter: managed.currentNotAfter!, renewal: template.document.renewal,
      ariWindow: managed.ariWindowStart && managed.ariWindowEnd ? { start: managed.ariWindowStart, end: managed.ariWindowEnd } : null, random: Math.random,
    });
    managed.renewalComputedWithVersion = template.version;
  }
  await tx.flush();
  return stale.length;
}
