// The state changes every stage outcome leads to, in one place: entering the next stage (with its work
// message in the outbox), waiting, failing (and whether that rolls back), finishing a run (and the
// certificate's backoff). They run inside the runner's transaction, so state and messages commit together.
import { randomUUID } from 'node:crypto';
import { FlushMode, type EntityManager } from '@mikro-orm/postgresql';
import { appendAuditDeferred } from '../audit/audit-trail.js';
import type { CertflowEvent } from '../events/certflow-event.js';
import { ManagedCertificate } from '../db/entities/managed-certificate.js';
import { WorkflowRun, type RunState } from '../db/entities/workflow-run.js';
import { WorkflowStage } from '../db/entities/workflow-stage.js';
import type { Subjects } from '../messaging/subjects.js';
import { enqueueEvent, enqueueStage } from './outbox.js';
import { STAGES_THAT_CHANGE_TARGETS, type StageName } from './stage-names.js';
import type { EventInput } from './stage-handler.js';

/** Failing certificates wait 1 h, then 2 h, 4 h ... up to 32 h before the scheduler tries again. */
export function failureBackoffMs(consecutiveFailures: number): number {
  const hours = Math.min(32, 2 ** Math.max(0, consecutiveFailures - 1));
  return hours * 3600_000;
}

/** A run's stages as one transaction knows them: read once, then kept up to date by enterStage. */
const stagesOfTransaction = new WeakMap<EntityManager, Map<string, WorkflowStage[]>>();

async function stagesOf(tx: EntityManager, runId: string): Promise<WorkflowStage[]> {
  let runs = stagesOfTransaction.get(tx);
  if (!runs) stagesOfTransaction.set(tx, (runs = new Map()));
  let stages = runs.get(runId);
  // Read without flushing first: rows changed in this transaction keep their changes (MikroORM merges only
  // what was not changed), and they are written once, at commit.
  if (!stages) runs.set(runId, (stages = await tx.find(WorkflowStage, { runId }, { flushMode: FlushMode.COMMIT })));
  return stages;
}

export interface LockedRun {
  run: WorkflowRun;
  managed: ManagedCertificate;
  /** Every stage of the run, in the order they were entered. */
  stages: WorkflowStage[];
}

/**
 * Locks the run's row, skipping it when another replica holds it (null), and reads the run, its
 * certificate and all its stages with the same statement: the runner's first read in every transaction
 * was four queries (lock, run, stage, certificate) and a fifth for the stages when the run moved on.
 * The rows become this transaction's entities, as if found; null also when the run does not exist.
 */
export async function lockRun(tx: EntityManager, runId: string): Promise<LockedRun | null> {
  const [row] = await tx.execute<{ run: object; managed: object; stages: object[] }[]>(
    `select to_jsonb(r) as run, to_jsonb(m) as managed,
       coalesce((select jsonb_agg(to_jsonb(s) order by s.seq) from workflow_stages s where s.run_id = r.id), '[]'::jsonb) as stages
     from workflow_runs r join managed_certificates m on m.id = r.managed_certificate_id
     where r.id = ? for update of r skip locked`, [runId]);
  if (!row) return null;
  const run = tx.map(WorkflowRun, row.run);
  const managed = tx.map(ManagedCertificate, row.managed);
  const stages = row.stages.map((stage) => tx.map(WorkflowStage, stage));
  let runs = stagesOfTransaction.get(tx);
  if (!runs) stagesOfTransaction.set(tx, (runs = new Map()));
  runs.set(runId, stages);
  return { run, managed, stages };
}

/**
 * Makes `stage` the run's current stage, with its work message in the outbox — unless the caller works
 * it in this same transaction (the runner's fused chain), which then needs none. Returns the stage's row.
 */
export async function enterStage(
  tx: EntityManager, s: Subjects, run: WorkflowRun, stage: StageName, now: Date, options = { workMessage: true },
): Promise<WorkflowStage> {
  const stages = await stagesOf(tx, run.id);
  let entered = stages.find((st) => st.stage === stage);
  if (entered) {
    // Re-entering (an operator's retry, or rollback after a manual decision): keep the history.
    entered.state = 'pending';
    entered.error = null;
    entered.recheckAt = null;
    entered.deadlineAt = null;
    entered.stuckReportedAt = null;
    entered.finishedAt = null;
  } else {
    entered = tx.create(WorkflowStage, {
      runId: run.id, stage, seq: Math.max(0, ...stages.map((st) => st.seq)) + 1, state: 'pending', attempts: 0, startedAt: null, finishedAt: null,
      activeMs: 0, output: null, error: null, history: [], recheckAt: null, deadlineAt: null, stuckReportedAt: null,
    });
    stages.push(entered);
  }
  run.currentStage = stage;
  run.updatedAt = now;
  if (options.workMessage) await enqueueStage(tx, s, { runId: run.id, stage }, `${run.id}:${stage}:${randomUUID()}`);
  return entered;
}

export function runEvent(run: WorkflowRun, managed: ManagedCertificate, input: EventInput, now: Date): CertflowEvent {
  return {
    id: randomUUID(),
    kind: input.kind,
    occurredAt: now.toISOString(),
    summary: input.summary,
    severity: input.severity,
    runId: run.id,
    managedCertificateId: managed.id,
    templateId: run.templateId,
    details: { commonName: managed.dnsNames[0], dnsNames: managed.dnsNames, ...input.details },
  };
}

/** Ends a run for good and settles the certificate's schedule. */
export async function finishRun(
  tx: EntityManager, s: Subjects, run: WorkflowRun, managed: ManagedCertificate, state: RunState, error: string | null, now: Date, actor = 'workflow',
): Promise<void> {
  const before = run.state;
  run.state = state;
  run.error = error;
  run.finishedAt = now;
  run.updatedAt = now;
  managed.lastRunId = run.id;
  managed.updatedAt = now;
  if (state === 'succeeded') {
    managed.consecutiveFailures = 0;
    managed.backoffUntil = null;
  } else {
    // A failed, rejected, cancelled or rolled-back run: the window is still open, so without a backoff
    // the next sweep would start the same run again at once.
    managed.consecutiveFailures += 1;
    managed.backoffUntil = new Date(now.getTime() + failureBackoffMs(managed.consecutiveFailures));
  }
  const names = managed.dnsNames.join(', ');
  const event: EventInput = state === 'succeeded'
    ? { kind: 'run.succeeded', severity: 'info', summary: `Renewal of ${names} succeeded` }
    : state === 'rolled-back'
      ? { kind: 'run.rolled-back', severity: 'warning', summary: `Renewal of ${names} failed and was rolled back: ${error ?? ''}`, details: { error: error ?? undefined } }
      : { kind: 'run.failed', severity: state === 'cancelled' ? 'info' : 'warning', summary: `Renewal of ${names} ${state}: ${error ?? ''}`, details: { error: error ?? undefined } };
  await enqueueEvent(tx, s, runEvent(run, managed, event, now));
  await appendAuditDeferred(tx, { actor, action: `run.${state}`, targetType: 'workflow_run', targetId: run.id, before: { state: before }, after: { state, error } });
}

/**
 * Where a failed stage leads: deploy/validate failures roll back (automatic policy) or wait for an
 * operator (manual policy); a failed rollback stays visible as rollback-failed; anything else fails the run.
 */
export async function afterStageFailure(
  tx: EntityManager, s: Subjects, run: WorkflowRun, managed: ManagedCertificate, stage: StageName, error: string,
  rollbackPolicy: 'automatic' | 'manual', finishAs: RunState | undefined, now: Date,
): Promise<void> {
  if (stage === 'rollback') {
    run.state = 'rollback-failed';
    run.error = error;
    run.updatedAt = now;
    await enqueueEvent(tx, s, runEvent(run, managed, {
      kind: 'rollback.failed', severity: 'critical', summary: `ROLLBACK FAILED for ${managed.dnsNames.join(', ')}: ${error}`, details: { stage, error },
    }, now));
    await appendAuditDeferred(tx, { actor: 'workflow', action: 'run.rollback-failed', targetType: 'workflow_run', targetId: run.id, after: { error } });
    return;
  }
  if (STAGES_THAT_CHANGE_TARGETS.includes(stage) && !finishAs) {
    if (stage === 'validate') {
      await enqueueEvent(tx, s, runEvent(run, managed, { kind: 'validation.failed', severity: 'warning', summary: `Validation failed for ${managed.dnsNames.join(', ')}: ${error}`, details: { stage, error } }, now));
    }
    run.error = error;
    if (rollbackPolicy === 'automatic') {
      run.state = 'running';
      await enterStage(tx, s, run, 'rollback', now);
    } else {
      run.state = 'waiting-operator';
      run.updatedAt = now;
      await appendAuditDeferred(tx, { actor: 'workflow', action: 'run.waiting-operator', targetType: 'workflow_run', targetId: run.id, after: { stage, error } });
    }
    return;
  }
  await finishRun(tx, s, run, managed, finishAs ?? 'failed', error, now);
}

/** The run's certificate; already loaded in this transaction, it is not flushed to be read again. */
export async function loadManaged(tx: EntityManager, id: string): Promise<ManagedCertificate> {
  return tx.findOneOrFail(ManagedCertificate, { id }, { flushMode: FlushMode.COMMIT });
}
