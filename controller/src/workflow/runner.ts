// The one runner every stage goes through. It takes work messages from the JetStream work stream, locks
// the run's row (so one replica at a time works a run), calls the stage's handler inside that
// transaction, and applies the outcome together with the next stage's outbox message. It owns retries
// (counted in the stage row, with doubling backoff), the stage timeout, and ack/nak/term:
//   ack  — the message is handled (done, waiting, retry scheduled, or stale);
//   nak  — the run is locked by another replica, or the database is unreachable: try again shortly;
//   term — the message is not a work message at all.
// A replica killed mid-stage loses its transaction (Postgres rolls it back and frees the row); JetStream
// redelivers the unacknowledged message after ackWait and another replica runs the stage again, which
// is safe because handlers re-read state and exit early when their work is already done.
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { AckPolicy, DeliverPolicy, type JsMsg, type NatsConnection } from 'nats';
import { appendAuditDeferred, collectingDeferredAudit, type AuditInput } from '../audit/audit-trail.js';
import { FINISHED_RUN_STATES, WorkflowRun } from '../db/entities/workflow-run.js';
import { WorkflowStage, type StageAttemptRecord } from '../db/entities/workflow-stage.js';
import { getTemplateVersion } from '../templates/template-store.js';
import { failpoint } from './failpoints.js';
import { enqueueEvent, kickOutbox } from './outbox.js';
import { afterStageFailure, enterStage, finishRun, loadManaged, lockRun, runEvent, type LockedRun } from './run-transitions.js';
import { isStageName, stageAfter, type StageName } from './stage-names.js';
import {
  PermanentStageError, type EventInput, type StageContext, type StageDeps, type StageHandler, type StageOutcome,
} from './stage-handler.js';

export interface RunnerOptions {
  /** Stage handlers worked at once by this replica. */
  concurrency: number;
  /** How long JetStream waits for an ack before redelivering (a dead replica's work comes back after this). */
  ackWaitMs: number;
}

type Processed = 'handled' | 'busy';

/** Stages one worker may run back to back for one run before it lets the queue decide again. */
const MAX_CHAINED_STAGES = 12;

/** Where the run goes after a stage: `fused` in the same transaction, `next` in a new one after commit. */
interface Chain {
  fused?: StageName;
  /** The fused stage's row, as the transaction entered it. */
  entered?: WorkflowStage;
  /** The run and its certificate as the chain's first stage locked and read them (the same entities). */
  locked?: LockedRun;
  next?: StageName;
}

class StageAttemptFailed extends Error {
  constructor(override readonly cause: unknown, readonly attempt: number, readonly elapsedMs: number, readonly startedAt: Date) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

/** A stage worked in a fused chain failed: the chain's transaction is rolled back and worked stage by stage. */
class FusedStageFailed extends Error {
  constructor(readonly stage: StageName, cause: StageAttemptFailed) {
    super(cause.message);
  }
}

export class WorkflowRunner {
  private stopping = false;
  private inFlight = 0;
  private messages: { stop(): void; close(): Promise<void | Error> } | null = null;
  private loop: Promise<void> | null = null;

  constructor(
    private readonly orm: MikroORM,
    private readonly nc: NatsConnection,
    private readonly deps: StageDeps,
    private readonly handlers: Record<StageName, StageHandler>,
    private readonly options: RunnerOptions,
  ) {}

  get consumerName(): string {
    return `${this.deps.subjects.workStream}_runner`;
  }

  async start(): Promise<void> {
    const jsm = await this.nc.jetstreamManager();
    const config = {
      durable_name: this.consumerName,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: this.options.ackWaitMs * 1_000_000,
      max_deliver: -1,
      max_ack_pending: 10_000,
      filter_subject: this.deps.subjects.work('>'),
    };
    try {
      await jsm.consumers.info(this.deps.subjects.workStream, this.consumerName);
      await jsm.consumers.update(this.deps.subjects.workStream, this.consumerName, { ack_wait: config.ack_wait, max_ack_pending: config.max_ack_pending });
    } catch {
      await jsm.consumers.add(this.deps.subjects.workStream, config);
    }
    this.loop = this.consumeLoop();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.messages?.stop();
    await this.loop?.catch(() => undefined);
    while (this.inFlight > 0) await new Promise((r) => setTimeout(r, 20));
  }

  private async consumeLoop(): Promise<void> {
    const js = this.nc.jetstream();
    while (!this.stopping) {
      try {
        const consumer = await js.consumers.get(this.deps.subjects.workStream, this.consumerName);
        const messages = await consumer.consume({ max_messages: this.options.concurrency });
        this.messages = messages;
        for await (const m of messages) {
          while (this.inFlight >= this.options.concurrency) await new Promise((r) => setTimeout(r, 5));
          this.inFlight += 1;
          void this.handleMessage(m).finally(() => { this.inFlight -= 1; });
          if (this.stopping) break;
        }
      } catch (err) {
        if (this.stopping) return;
        this.deps.log.warn({ err: (err as Error).message }, 'workflow runner: consumer failed; reconnecting');
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  private async handleMessage(m: JsMsg): Promise<void> {
    let work: { runId: string; stage: string };
    try {
      work = JSON.parse(new TextDecoder().decode(m.data));
      if (typeof work.runId !== 'string' || !isStageName(work.stage)) throw new Error('not a stage work message');
    } catch {
      m.term();
      return;
    }
    // Tell JetStream we are still on it while a slow stage runs, so it does not redeliver meanwhile.
    const heartbeat = setInterval(() => m.working(), Math.max(1000, this.options.ackWaitMs / 3));
    try {
      const result = await this.process(work.runId, work.stage as StageName);
      if (result === 'busy') m.nak(500);
      else m.ack();
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message, runId: work.runId, stage: work.stage }, 'workflow runner: could not work the stage; it will be redelivered');
      m.nak(2000);
    } finally {
      clearInterval(heartbeat);
    }
  }

  /** Template versions never change once written: one read per version and process. */
  private readonly templates = new Map<string, Promise<Awaited<ReturnType<typeof getTemplateVersion>>>>();
  private templateVersion(tx: EntityManager, templateId: string, version: number): ReturnType<typeof getTemplateVersion> {
    const key = `${templateId}@${version}`;
    let cached = this.templates.get(key);
    if (!cached) {
      cached = getTemplateVersion(tx, templateId, version);
      this.templates.set(key, cached);
      cached.catch(() => this.templates.delete(key));
    }
    return cached;
  }

  /**
   * Works one stage of one run (exported behaviour for tests: call it directly without NATS). When the
   * stage is done and the run moves on, the next stage is worked at once in the same transaction, under
   * the same row lock ("fused"): a chain like discover → trigger → select-ca → approve-issue → issue
   * commits once, and only the stage where it stops gets a work message. If a fused stage's handler
   * fails, the whole transaction is rolled back and the first stage is worked again alone, so a failure
   * is always recorded against the stage that failed, and the stages before it are kept.
   */
  async process(runId: string, stageName: StageName, depth = 0, fuse = true): Promise<Processed> {
    const em = this.orm.em.fork();
    const afterCommit: (() => void | Promise<void>)[] = [];
    const lock = { at: 0 };
    const chain: Chain = {};
    let result: Processed;
    let fused = 0;
    const worked: StageName[] = [stageName];
    try {
      result = await em.transactional((tx) => collectingDeferredAudit(tx, async () => {
        try {
          const first = await this.attempt(tx, runId, stageName, afterCommit, lock, chain, fuse && depth < MAX_CHAINED_STAGES);
          while (chain.fused) {
            const next = chain.fused;
            chain.fused = undefined;
            fused += 1;
            worked.push(next);
            try {
              await this.attempt(tx, runId, next, afterCommit, lock, chain, depth + fused < MAX_CHAINED_STAGES);
            } catch (err) {
              throw err instanceof StageAttemptFailed ? new FusedStageFailed(next, err) : err;
            }
          }
          return first;
        } finally {
          // While the row was locked (commit follows), one line per stage worked: two of these lines for one
          // run from different replicas never overlap in time.
          const releasedAt = Date.now();
          if (lock.at) for (const stage of worked) this.deps.log.debug({ runId, stage, replica: process.pid, lockedAt: lock.at, releasedAt }, 'stage attempt');
        }
      }));
    } catch (err) {
      if (err instanceof FusedStageFailed) {
        this.deps.log.debug({ runId, stage: stageName, failed: err.stage, err: err.message }, 'workflow runner: a fused stage failed; working the chain one stage at a time');
        return this.process(runId, stageName, depth, false);
      }
      if (!(err instanceof StageAttemptFailed)) throw err;
      await this.orm.em.fork().transactional((tx) => this.recordFailedAttempt(tx, runId, stageName, err));
      result = 'handled';
    }
    kickOutbox();
    for (const fn of afterCommit) {
      try { await fn(); } catch (err) { this.deps.log.warn({ err: (err as Error).message }, 'workflow runner: after-commit action failed'); }
    }
    // The run moved on to a stage this replica can work right away but not in the same transaction
    // (a failure leading to rollback, or fusing was off): work it now instead of waiting for its message
    // to travel through the outbox, the relay and JetStream (that message still goes out, and finds the
    // stage done). Bounded, so one run cannot hold a worker slot for ever.
    if (chain.next && depth + fused < MAX_CHAINED_STAGES) await this.process(runId, chain.next, depth + fused + 1);
    return result;
  }

  /** `mayFuse`: when the stage is done and the run goes on, the next stage is left to the caller's transaction (chain.fused). */
  private async attempt(
    tx: EntityManager, runId: string, stageName: StageName, afterCommit: (() => void | Promise<void>)[], lock: { at: number }, chain: Chain, mayFuse: boolean,
  ): Promise<Processed> {
    // A fused stage's run is locked already (by this transaction), and its stage row is the one just entered.
    const entered = chain.entered?.stage === stageName ? chain.entered : undefined;
    chain.entered = undefined;
    // In a fused chain the run is locked and read already (by the chain's first stage), and changed by the
    // stage before: the same entities go on (the transaction's changes are written once, at commit).
    const locked = entered ? chain.locked! : await lockRun(tx, runId);
    if (!locked) {
      const [exists] = await tx.execute<{ id: string }[]>('select id from workflow_runs where id = ?', [runId]);
      return exists ? 'busy' : 'handled';
    }
    chain.locked = locked;
    lock.at ||= Date.now();
    const { run, managed } = locked;
    // Stale work: the run ended, moved on, or is parked for a person; its own wake-ups will come.
    if (FINISHED_RUN_STATES.includes(run.state) || run.currentStage !== stageName) return 'handled';
    if (run.state === 'waiting-operator' || run.state === 'rollback-failed') return 'handled';
    const stage = entered ?? locked.stages.find((st) => st.stage === stageName);
    if (!stage || stage.state === 'succeeded' || stage.state === 'skipped' || stage.state === 'failed') return 'handled';

    const template = await this.templateVersion(tx, run.templateId, run.templateVersion);
    const now = this.deps.now();
    const attempt = stage.attempts + 1;
    const startedAt = now;
    stage.startedAt ??= now;
    const pendingEvents: EventInput[] = [];
    const pendingAudit: AuditInput[] = [];
    const context = { ...run.context };
    const abort = new AbortController();
    const ctx: StageContext = {
      tx, run, stage, managed, template: template.document, deps: this.deps, signal: abort.signal, context,
      afterCommit: (fn) => afterCommit.push(fn),
      wakeAgent: (agentId) => afterCommit.push(() => this.nc.publish(this.deps.subjects.agentWake(agentId))),
      // Buffered and written after the handler, with the outcome's own entries, in one statement.
      emit: async (event) => { pendingEvents.push(event); },
      audit: async (action, details) => { pendingAudit.push(auditEntry(run.id, action, { stage: stageName, ...details })); },
    };
    const started = Date.now();
    let outcome: StageOutcome;
    failpoint(`${stageName}:before-handler`);
    try {
      outcome = await withTimeout(this.handlers[stageName](ctx), this.deps.settings.stageTimeoutMs, abort);
    } catch (err) {
      abort.abort();
      throw new StageAttemptFailed(err, attempt, Date.now() - started, startedAt);
    }
    const elapsed = Date.now() - started;
    for (const event of pendingEvents) await enqueueEvent(tx, this.deps.subjects, runEvent(run, managed, event, now));
    const fuseNext = mayFuse && outcome.type === 'done';
    const next = await this.applyOutcome(tx, { run, stage, managed, template: template.document, context, outcome, attempt, elapsed, startedAt, now, audit: pendingAudit, fuseNext });
    await appendAuditDeferred(tx, pendingAudit);
    failpoint(`${stageName}:after-handler`, `${stageName}:after-handler:${outcome.type}`);
    // First after commit: before the relay publishes the next stage and before the message is acked.
    afterCommit.unshift(() => failpoint(`${stageName}:after-commit`, `${stageName}:after-commit:${outcome.type}`));
    if (run.state === 'running' && run.currentStage !== stageName) {
      if (fuseNext && next) {
        chain.fused = next.stage as StageName;
        chain.entered = next;
      } else {
        chain.next = run.currentStage as StageName;
      }
    }
    return 'handled';
  }

  private async applyOutcome(tx: EntityManager, a: {
    run: WorkflowRun; stage: WorkflowStage; managed: StageContext['managed']; template: StageContext['template'];
    context: Record<string, unknown>; outcome: StageOutcome; attempt: number; elapsed: number; startedAt: Date; now: Date; audit: AuditInput[];
    /** The next stage runs in this transaction: it needs no work message. */
    fuseNext: boolean;
  }): Promise<WorkflowStage | undefined> {
    const { run, stage, managed, outcome, now } = a;
    const s = this.deps.subjects;
    const stageName = stage.stage as StageName;
    stage.activeMs += a.elapsed;
    const record = (result: StageAttemptRecord['outcome'], error?: string): void => {
      stage.history = [...stage.history, { attempt: a.attempt, startedAt: a.startedAt.toISOString(), finishedAt: now.toISOString(), outcome: result, ...(error ? { error } : {}) }];
    };
    if (outcome.type === 'wait') {
      // A first wait is an attempt; rechecks of the same wait are not (they would flood the history).
      if (stage.state !== 'waiting') { stage.attempts = a.attempt; record('waiting'); }
      stage.state = 'waiting';
      stage.output = { ...stage.output, ...outcome.output, waitingFor: outcome.reason };
      stage.recheckAt = new Date(now.getTime() + (outcome.recheckInMs ?? this.deps.settings.waitRecheckMs));
      run.state = outcome.runState ?? 'running';
      run.context = { ...a.context };
      run.updatedAt = now;
      return;
    }
    stage.attempts = a.attempt;
    stage.recheckAt = null;
    stage.finishedAt = now;
    if (outcome.type === 'done') {
      stage.state = outcome.skipped ? 'skipped' : 'succeeded';
      stage.output = { ...outcome.output };
      stage.error = null;
      record(outcome.skipped ? 'skipped' : 'succeeded');
      run.context = { ...a.context, [stageName]: outcome.output ?? {} };
      a.audit.push(auditEntry(run.id, `stage.${stage.state}`, { stage: stageName, output: outcome.output ?? {} }));
      // In order: the handler's entries, the stage's, then the run's (written by the transitions below).
      await appendAuditDeferred(tx, a.audit.splice(0));
      const next = outcome.next ?? stageAfter(stageName) ?? 'finish';
      if (next === 'finish') {
        await finishRun(tx, s, run, managed, outcome.finishAs ?? 'succeeded', outcome.finishAs && outcome.finishAs !== 'succeeded' ? run.error ?? null : null, now);
      } else {
        run.state = 'running';
        return enterStage(tx, s, run, next, now, { workMessage: !a.fuseNext });
      }
      return undefined;
    }
    stage.state = 'failed';
    stage.error = outcome.error;
    stage.output = { ...stage.output, ...outcome.output };
    record('failed', outcome.error);
    run.context = { ...a.context };
    a.audit.push(auditEntry(run.id, 'stage.failed', { stage: stageName, error: outcome.error }));
    await appendAuditDeferred(tx, a.audit.splice(0));
    await afterStageFailure(tx, s, run, managed, stageName, outcome.error, a.template.rollback.policy, outcome.finishAs, now);
  }

  /** A handler threw or timed out: count the attempt, then retry after a backoff or fail the stage. */
  private async recordFailedAttempt(tx: EntityManager, runId: string, stageName: StageName, failure: StageAttemptFailed): Promise<void> {
    await tx.execute('select id from workflow_runs where id = ? for update', [runId]);
    const run = await tx.findOneOrFail(WorkflowRun, { id: runId });
    const stage = await tx.findOne(WorkflowStage, { runId, stage: stageName });
    if (!stage || run.currentStage !== stageName || FINISHED_RUN_STATES.includes(run.state)) return;
    const now = this.deps.now();
    const message = failure.message || String(failure.cause);
    const permanent = failure.cause instanceof PermanentStageError;
    const settings = this.deps.settings;
    stage.attempts = failure.attempt;
    stage.activeMs += failure.elapsedMs;
    stage.error = message;
    const giveUp = permanent || failure.attempt >= settings.maxAttempts;
    stage.history = [...stage.history, {
      attempt: failure.attempt, startedAt: failure.startedAt.toISOString(), finishedAt: now.toISOString(), outcome: giveUp ? 'failed' : 'retry', error: message,
    }];
    this.deps.log.warn({ runId, stage: stageName, attempt: failure.attempt, err: message }, giveUp ? 'stage failed' : 'stage attempt failed; will retry');
    if (!giveUp) {
      const delay = Math.min(settings.maxRetryDelayMs, settings.retryDelayMs * 2 ** (failure.attempt - 1));
      stage.state = 'pending';
      stage.recheckAt = new Date(now.getTime() + delay);
      await appendAuditDeferred(tx, auditEntry(runId, 'stage.retry', { stage: stageName, attempt: failure.attempt, error: message }));
      return;
    }
    stage.state = 'failed';
    stage.finishedAt = now;
    stage.recheckAt = null;
    await appendAuditDeferred(tx, auditEntry(runId, 'stage.failed', { stage: stageName, error: message, attempts: failure.attempt }));
    const managed = await loadManaged(tx, run.managedCertificateId);
    const template = await this.templateVersion(tx, run.templateId, run.templateVersion);
    await afterStageFailure(tx, this.deps.subjects, run, managed, stageName, `${stageName}: ${message}`, template.document.rollback.policy, undefined, now);
  }
}

function auditEntry(runId: string, action: string, after: Record<string, unknown>): AuditInput {
  return { actor: 'workflow', action, targetType: 'workflow_run', targetId: runId, after };
}

async function withTimeout<T>(promise: Promise<T>, ms: number, abort: AbortController): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      abort.abort();
      reject(new Error(`the stage took longer than ${Math.round(ms / 1000)} s`));
    }, ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
