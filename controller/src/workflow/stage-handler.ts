// What a stage handler gets and what it answers. Handlers know nothing of transports: they read and write
// state through `tx` (the run's row is locked for them), call plug-ins, and say what happens next. The
// runner (runner.ts) owns everything else: retries, backoff, timeouts, timings, ack/nak.
import type { EntityManager } from '@mikro-orm/postgresql';
import type { SecretBox } from '../crypto/master-key.js';
import type { CertflowEvent } from '../events/certflow-event.js';
import type { ManagedCertificate } from '../db/entities/managed-certificate.js';
import type { RunState, WorkflowRun } from '../db/entities/workflow-run.js';
import type { WorkflowStage } from '../db/entities/workflow-stage.js';
import type { Issuer } from '../issuers/issuer.js';
import type { Logger } from '../log.js';
import type { Subjects } from '../messaging/subjects.js';
import type { TemplateDocument } from '../templates/template-document.js';
import type { StageName } from './stage-names.js';

export interface WorkflowSettings {
  /** How long one handler call may take before it counts as a failed attempt. */
  stageTimeoutMs: number;
  /** Attempts before a stage that keeps throwing fails its run. */
  maxAttempts: number;
  /** First retry delay; doubles per attempt up to maxRetryDelayMs. */
  retryDelayMs: number;
  maxRetryDelayMs: number;
  /** How long a stage may wait for agents before it fails (an agent that never answers). */
  agentJobTimeoutMs: number;
  /** How often a waiting stage is looked at again even without a wake-up. */
  waitRecheckMs: number;
}

export const DEFAULT_WORKFLOW_SETTINGS: WorkflowSettings = Object.freeze({
  stageTimeoutMs: 120_000,
  maxAttempts: 5,
  retryDelayMs: 2_000,
  maxRetryDelayMs: 120_000,
  agentJobTimeoutMs: 30 * 60_000,
  waitRecheckMs: 30_000,
});

export interface StageDeps {
  subjects: Subjects;
  box: SecretBox;
  log: Logger;
  settings: WorkflowSettings;
  /** The controller's public base URL (approval links, CRLs). */
  publicUrl: string;
  loadIssuer(em: EntityManager, name: string): Promise<Issuer>;
  now(): Date;
}

export type EventInput = Pick<CertflowEvent, 'kind' | 'summary' | 'severity'> & { details?: CertflowEvent['details'] };

export interface StageContext {
  tx: EntityManager;
  run: WorkflowRun;
  stage: WorkflowStage;
  managed: ManagedCertificate;
  template: TemplateDocument;
  deps: StageDeps;
  signal: AbortSignal;
  /** The run's stored context (outputs of earlier stages); changes are saved with the outcome. */
  context: RunContext;
  /** Runs after the transaction commits (e.g. waking an agent's replica). */
  afterCommit(fn: () => void | Promise<void>): void;
  wakeAgent(agentId: string): void;
  emit(event: EventInput): Promise<void>;
  audit(action: string, details?: Record<string, unknown>): Promise<void>;
}

/** The run's context: what earlier stages decided, by stage. Plain JSON. */
export type RunContext = Record<string, unknown>;

export type StageOutcome =
  /** Done: go on to `next` (default: the next stage in order), or end the run when next is 'finish'. */
  | { type: 'done'; output?: Record<string, unknown>; next?: StageName | 'finish'; finishAs?: RunState; skipped?: boolean }
  /** Not done yet: waiting for agents, approvers or an operator. Looked at again on a wake-up or after recheckInMs. */
  | { type: 'wait'; reason: string; recheckInMs?: number; runState?: RunState; output?: Record<string, unknown> }
  /** A failure retrying will not fix (policy refused, agent refused, approval rejected...). */
  | { type: 'fail'; error: string; output?: Record<string, unknown>; finishAs?: RunState };

export type StageHandler = (ctx: StageContext) => Promise<StageOutcome>;

/** An error a handler throws to fail at once, without retries. */
export class PermanentStageError extends Error {}
