// Starting runs and an operator's actions on them: renew now, cancel, retry a failed stage, and — under
// a manual rollback policy — roll back or accept. Each is one transaction with its audit entry and the
// outbox message that makes the runner act.
import { randomUUID } from 'node:crypto';
import type { EntityDictionary, EntityManager } from '@mikro-orm/postgresql';
import { appendAudit, appendAuditDeferred, type AuditInput } from '../audit/audit-trail.js';
import { ManagedCertificate } from '../db/entities/managed-certificate.js';
import { FINISHED_RUN_STATES, WorkflowRun, FINISHED_RUN_STATES_SQL } from '../db/entities/workflow-run.js';
import { WorkflowStage } from '../db/entities/workflow-stage.js';
import type { Subjects } from '../messaging/subjects.js';
import { pgArray } from '../db/pg-array.js';
import { enqueueMany, eventMessage, stageMessage, type StageWork } from './outbox.js';
import { enterStage, finishRun, runEvent } from './run-transitions.js';

export class RunActionError extends Error {
  override name = 'RunActionError';
  constructor(message: string, readonly status: 404 | 409) {
    super(message);
  }
}

/**
 * Starts a run unless the certificate already has an active one (the partial unique index decides,
 * so two replicas or an operator racing the scheduler can never start two). Returns null when one runs.
 */
export async function startRun(
  tx: EntityManager, s: Subjects, managed: ManagedCertificate, reason: 'scheduled' | 'manual', requestedBy: string, now: Date,
): Promise<WorkflowRun | null> {
  const [template] = await tx.execute<{ id: string }[]>('select id from templates where id = ?', [managed.templateId]);
  if (!template) throw new RunActionError(`the template of ${managed.name} no longer exists`, 409);
  const [run] = await insertRuns(tx, s, [managed], reason, requestedBy, null, now);
  if (!run) return null;
  await appendAudit(tx, runStartedAudit(run, managed, requestedBy));
  return run;
}

/**
 * The scheduler's starts: a run for each of `managedIds` that is still active, due at `now` and out of
 * backoff (the sweep chose them moments ago; an operator may have paused one since), in a few statements
 * for all of them. Their audit entries go through the deferred path the workflow's own entries take.
 * Returns how many started.
 */
export async function startDueRuns(tx: EntityManager, s: Subjects, managedIds: readonly string[], now: Date): Promise<number> {
  if (managedIds.length === 0) return 0;
  const managed = await tx.find(ManagedCertificate, { id: { $in: [...managedIds] } });
  const runs = await insertRuns(tx, s, managed, 'scheduled', 'scheduler', now, now);
  const byId = new Map(managed.map((m) => [m.id, m]));
  await appendAuditDeferred(tx, runs.map((run) => runStartedAudit(run, byId.get(run.managedCertificateId)!, 'scheduler')));
  return runs.length;
}

/**
 * What starting runs writes, for any number of certificates at once: the runs (one statement; the
 * one-active-run index skips a certificate that has one), their discover stages, and in the outbox
 * each run's work message and renewal.started event. With `dueAt`, only certificates still due then.
 */
async function insertRuns(
  tx: EntityManager, s: Subjects, managed: readonly ManagedCertificate[], reason: 'scheduled' | 'manual', requestedBy: string, dueAt: Date | null, now: Date,
): Promise<WorkflowRun[]> {
  if (managed.length === 0) return [];
  const stillDue = dueAt ? `m.state = 'active' and m.renew_after <= ? and (m.backoff_until is null or m.backoff_until <= ?)` : 'true';
  const rows = await tx.execute<EntityDictionary<WorkflowRun>[]>(
    `insert into workflow_runs (id, managed_certificate_id, template_id, template_version, state, current_stage, reason, requested_by, context, created_at, updated_at)
     select d.run_id, m.id, m.template_id, t.current_version, 'running', 'discover', ?, ?, '{}'::jsonb, ?, ?
       from unnest(?::uuid[], ?::uuid[]) as d(run_id, managed_id)
       join managed_certificates m on m.id = d.managed_id
       join templates t on t.id = m.template_id
      where ${stillDue}
     on conflict (managed_certificate_id) where state not in ${FINISHED_RUN_STATES_SQL} do nothing
     returning *`,
    [reason, requestedBy, now, now, pgArray(managed.map(() => randomUUID())), pgArray(managed.map((m) => m.id)), ...(dueAt ? [dueAt, dueAt] : [])]);
  if (rows.length === 0) return [];
  const runs = rows.map((row) => tx.map(WorkflowRun, row));
  // A new run's first stage, as enterStage makes it (one statement instead of one per run).
  await tx.execute(
    `insert into workflow_stages (run_id, stage, seq, state, attempts, active_ms, history)
     select id, 'discover', 1, 'pending', 0, 0, '[]'::jsonb from unnest(?::uuid[]) as id`,
    [pgArray(runs.map((r) => r.id))], 'run');
  const byId = new Map(managed.map((m) => [m.id, m]));
  const messages = runs.flatMap((run) => {
    const m = byId.get(run.managedCertificateId)!;
    const work: StageWork = { runId: run.id, stage: 'discover' };
    const event = runEvent(run, m, {
      kind: 'renewal.started', severity: 'info', summary: `Renewal of ${m.dnsNames.join(', ')} started (${reason})`,
      details: { notAfter: m.currentNotAfter?.toISOString() },
    }, now);
    return [stageMessage(s, work, `${run.id}:discover:${randomUUID()}`), eventMessage(s, event)];
  });
  await enqueueMany(tx, messages);
  return runs;
}

function runStartedAudit(run: WorkflowRun, managed: ManagedCertificate, requestedBy: string): AuditInput {
  return {
    actor: requestedBy === 'scheduler' ? 'scheduler' : `token:${requestedBy}`, action: 'run.started', targetType: 'workflow_run', targetId: run.id,
    after: { managedCertificate: managed.name, reason: run.reason, templateVersion: run.templateVersion },
  };
}

/** Progress a stage keeps in the run's context: a retried stage starts afresh (new jobs, new deploy ids). */
const STAGE_PROGRESS: Record<string, string> = { issue: 'issueProgress', deploy: 'deployProgress', rollback: 'rollbackProgress' };
function forgetProgress(run: WorkflowRun, stage: string): void {
  const key = STAGE_PROGRESS[stage];
  if (key && key in run.context) {
    const { [key]: _dropped, ...rest } = run.context;
    run.context = rest;
  }
}

async function lockRun(tx: EntityManager, runId: string): Promise<WorkflowRun> {
  await tx.execute('select id from workflow_runs where id = ? for update', [runId]);
  const run = await tx.findOne(WorkflowRun, { id: runId });
  if (!run) throw new RunActionError(`no run with id ${runId}`, 404);
  return run;
}

export async function cancelRun(tx: EntityManager, s: Subjects, runId: string, actor: string, now: Date): Promise<WorkflowRun> {
  const run = await lockRun(tx, runId);
  if (FINISHED_RUN_STATES.includes(run.state)) throw new RunActionError(`the run is already ${run.state}`, 409);
  const managed = await tx.findOneOrFail(ManagedCertificate, { id: run.managedCertificateId });
  await tx.nativeUpdate(WorkflowStage, { runId, state: { $in: ['pending', 'running', 'waiting'] } }, { state: 'failed', error: `cancelled by ${actor}`, recheckAt: null, finishedAt: now });
  await tx.execute(`update approval_requests set state = 'cancelled', decided_at = ? where run_id = ? and state = 'pending'`, [now, runId], 'run');
  await finishRun(tx, s, run, managed, 'cancelled', `cancelled by ${actor}`, now, `token:${actor}`);
  await tx.flush();
  return run;
}

/** Retries the stage a run failed in: a run parked for an operator, or a failed run's last stage. */
export async function retryRun(tx: EntityManager, s: Subjects, runId: string, actor: string, now: Date): Promise<WorkflowRun> {
  const run = await lockRun(tx, runId);
  if (run.state === 'rollback-failed') {
    run.state = 'running';
    forgetProgress(run, 'rollback');
    await enterStage(tx, s, run, 'rollback', now);
  } else if (run.state === 'waiting-operator') {
    run.state = 'running';
    forgetProgress(run, run.currentStage);
    await enterStage(tx, s, run, run.currentStage as Parameters<typeof enterStage>[3], now);
  } else if (run.state === 'failed') {
    // A failed run is finished; retrying its stage reopens it (only if nothing else runs for the certificate).
    const [active] = await tx.execute<{ id: string }[]>(
      `select id from workflow_runs where managed_certificate_id = ? and id <> ? and state not in ${FINISHED_RUN_STATES_SQL}`,
      [run.managedCertificateId, run.id]);
    if (active) throw new RunActionError(`another run (${active.id}) is active for this certificate`, 409);
    run.state = 'running';
    run.finishedAt = null;
    forgetProgress(run, run.currentStage);
    await enterStage(tx, s, run, run.currentStage as Parameters<typeof enterStage>[3], now);
  } else {
    throw new RunActionError(`a ${run.state} run cannot be retried`, 409);
  }
  run.error = null;
  await appendAudit(tx, { actor: `token:${actor}`, action: 'run.retried', targetType: 'workflow_run', targetId: run.id, after: { stage: run.currentStage } });
  await tx.flush();
  return run;
}

/** Manual rollback policy: the operator decides after a failed deploy or validate. */
export async function resolveWaitingRun(tx: EntityManager, s: Subjects, runId: string, decision: 'rollback' | 'accept', actor: string, now: Date): Promise<WorkflowRun> {
  const run = await lockRun(tx, runId);
  if (run.state !== 'waiting-operator' && !(decision === 'accept' && run.state === 'rollback-failed')) {
    throw new RunActionError(`only a run waiting for an operator can be rolled back or accepted (this one is ${run.state})`, 409);
  }
  const managed = await tx.findOneOrFail(ManagedCertificate, { id: run.managedCertificateId });
  await appendAudit(tx, { actor: `token:${actor}`, action: `run.operator-${decision}`, targetType: 'workflow_run', targetId: run.id, before: { state: run.state, error: run.error } });
  if (decision === 'rollback') {
    run.state = 'running';
    await enterStage(tx, s, run, 'rollback', now);
  } else {
    // Accepting leaves the targets as they are; the run ends failed so the next renewal is scheduled as usual.
    await finishRun(tx, s, run, managed, 'failed', `accepted by ${actor} after: ${run.error ?? 'a failure'}`, now, `token:${actor}`);
  }
  await tx.flush();
  return run;
}
