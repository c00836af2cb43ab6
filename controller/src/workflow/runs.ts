// Starting runs and an operator's actions on them: renew now, cancel, retry a failed stage, and — under
// a manual rollback policy — roll back or accept. Each is one transaction with its audit entry and the
// outbox message that makes the runner act.
import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { appendAudit } from '../audit/audit-trail.js';
import { ManagedCertificate } from '../db/entities/managed-certificate.js';
import { FINISHED_RUN_STATES, WorkflowRun, FINISHED_RUN_STATES_SQL } from '../db/entities/workflow-run.js';
import { WorkflowStage } from '../db/entities/workflow-stage.js';
import type { Subjects } from '../messaging/subjects.js';
import { enqueueEvent } from './outbox.js';
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
  const [template] = await tx.execute<{ current_version: number }[]>('select current_version from templates where id = ?', [managed.templateId]);
  if (!template) throw new RunActionError(`the template of ${managed.name} no longer exists`, 409);
  const id = randomUUID();
  const inserted = await tx.execute<{ id: string }[]>(
    `insert into workflow_runs (id, managed_certificate_id, template_id, template_version, state, current_stage, reason, requested_by, context, created_at, updated_at)
     values (?, ?, ?, ?, 'running', 'discover', ?, ?, '{}'::jsonb, ?, ?)
     on conflict (managed_certificate_id) where state not in ${FINISHED_RUN_STATES_SQL} do nothing
     returning id`,
    [id, managed.id, managed.templateId, template.current_version, reason, requestedBy, now, now]);
  if (inserted.length === 0) return null;
  const run = await tx.findOneOrFail(WorkflowRun, { id });
  await enterStage(tx, s, run, 'discover', now);
  await enqueueEvent(tx, s, runEvent(run, managed, {
    kind: 'renewal.started', severity: 'info', summary: `Renewal of ${managed.dnsNames.join(', ')} started (${reason})`,
    details: { notAfter: managed.currentNotAfter?.toISOString() },
  }, now));
  await appendAudit(tx, { actor: requestedBy === 'scheduler' ? 'scheduler' : `token:${requestedBy}`, action: 'run.started', targetType: 'workflow_run', targetId: id,
    after: { managedCertificate: managed.name, reason, templateVersion: template.current_version } });
  await tx.flush();
  return run;
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
