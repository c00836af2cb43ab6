// The workflow's clock. Every replica runs it; rows are claimed with `for update skip locked`.
// - Rechecks: a stage waiting (for agents, a maintenance window) or backing off before a retry has a
//   recheck time; when it passes, a work message is enqueued so the runner looks again.
// - Stuck stages: a stage not finished long after it started raises stage.stuck once.
// - Approval deadlines: a pending approval past its deadline raises stage.stuck once (the run keeps
//   waiting: approvers may still decide, an operator may cancel).
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from '../log.js';
import type { Subjects } from '../messaging/subjects.js';
import { ManagedCertificate } from '../db/entities/managed-certificate.js';
import { WorkflowRun, FINISHED_RUN_STATES_SQL } from '../db/entities/workflow-run.js';
import { enqueueEvent, enqueueStage, kickOutbox } from './outbox.js';
import { runEvent } from './run-transitions.js';
import { PeriodicTask } from './periodic-task.js';
import type { StageName } from './stage-names.js';
import { pgArray } from '../db/pg-array.js';

export interface WatchdogOptions {
  intervalMs: number;
  /** A stage unfinished this long after it started (approvals excepted) is stuck. */
  stuckAfterMs: number;
}

export class WorkflowWatchdog {
  private readonly task: PeriodicTask;

  constructor(private readonly orm: MikroORM, private readonly subjects: Subjects, private readonly log: Logger, private readonly options: WatchdogOptions) {
    this.task = new PeriodicTask('workflow watchdog', () => this.tick(), options.intervalMs, log);
  }

  start(): void {
    this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  async tick(now: Date = new Date()): Promise<void> {
    const enqueued = await this.orm.em.fork().transactional(async (tx) => {
      const due = await tx.execute<{ run_id: string; stage: string; recheck_at: string | Date }[]>(
        `select run_id, stage, recheck_at from workflow_stages where recheck_at <= ? order by recheck_at limit 500 for update skip locked`, [now]);
      for (const row of due) {
        const at = new Date(row.recheck_at).getTime();
        await enqueueStage(tx, this.subjects, { runId: row.run_id, stage: row.stage as StageName }, `${row.run_id}:${row.stage}:recheck:${at}`);
      }
      if (due.length > 0) {
        await tx.execute(`update workflow_stages set recheck_at = null where (run_id, stage) in (select * from unnest(?::uuid[], ?::text[]))`,
          [pgArray(due.map((d) => d.run_id)), pgArray(due.map((d) => d.stage))], 'run');
      }

      const stuck = await tx.execute<{ run_id: string; stage: string }[]>(
        `select s.run_id, s.stage from workflow_stages s join workflow_runs r on r.id = s.run_id
          where s.state in ('pending', 'running', 'waiting') and s.stuck_reported_at is null and s.stage not like 'approve-%'
            and r.state not in ${FINISHED_RUN_STATES_SQL}
            and coalesce(s.deadline_at, coalesce(s.started_at, r.updated_at) + (? * interval '1 millisecond')) < ?
          limit 100 for update of s skip locked`, [this.options.stuckAfterMs, now]);
      for (const row of stuck) {
        await this.raiseStuck(tx, row.run_id, row.stage, `stage ${row.stage} has not finished in ${Math.round(this.options.stuckAfterMs / 60000)} min`, now);
        await tx.execute('update workflow_stages set stuck_reported_at = ? where run_id = ? and stage = ?', [now, row.run_id, row.stage], 'run');
      }

      const late = await tx.execute<{ id: string; run_id: string; gate: string; level_name: string }[]>(
        `select id, run_id, gate, level_name from approval_requests where state = 'pending' and deadline_reported_at is null and deadline_at < ?
          limit 100 for update skip locked`, [now]);
      for (const row of late) {
        await this.raiseStuck(tx, row.run_id, `approve-${row.gate}`, `approval level "${row.level_name}" is past its deadline`, now);
        await tx.execute('update approval_requests set deadline_reported_at = ? where id = ?', [now, row.id], 'run');
      }
      return due.length + stuck.length + late.length;
    });
    if (enqueued > 0) kickOutbox();
  }

  private async raiseStuck(tx: Parameters<Parameters<MikroORM['em']['transactional']>[0]>[0], runId: string, stage: string, summary: string, now: Date): Promise<void> {
    const run = await tx.findOne(WorkflowRun, { id: runId });
    if (!run) return;
    const managed = await tx.findOneOrFail(ManagedCertificate, { id: run.managedCertificateId });
    await enqueueEvent(tx, this.subjects, runEvent(run, managed, {
      kind: 'stage.stuck', severity: 'warning', summary: `${managed.dnsNames.join(', ')}: ${summary}`, details: { stage },
    }, now));
  }
}
