import { defineEntity, type InferEntity } from '@mikro-orm/postgresql';

export const STAGE_STATES = ['pending', 'running', 'waiting', 'succeeded', 'skipped', 'failed'] as const;
export type StageState = (typeof STAGE_STATES)[number];

export interface StageAttemptRecord {
  attempt: number;
  startedAt: string;
  finishedAt: string;
  outcome: 'succeeded' | 'skipped' | 'waiting' | 'retry' | 'failed';
  error?: string;
}

/** One stage of one run: its state, attempts (with history), timings, output and last error. */
export const WorkflowStage = defineEntity({
  name: 'WorkflowStage',
  tableName: 'workflow_stages',
  properties: (p) => ({
    runId: p.uuid().primary(),
    stage: p.string().primary(),
    /** Position in the run, so listings show stages in the order they ran. */
    seq: p.integer(),
    state: p.enum([...STAGE_STATES]),
    attempts: p.integer(),
    startedAt: p.datetime().nullable(),
    finishedAt: p.datetime().nullable(),
    /** Time spent in handlers, summed over attempts (waiting for agents or approvers is not counted). */
    activeMs: p.integer(),
    output: p.json<Record<string, unknown>>().nullable(),
    error: p.text().nullable(),
    history: p.json<StageAttemptRecord[]>(),
    /** When the runner should look at this stage again (a retry's backoff, or a wait's next check). */
    recheckAt: p.datetime().nullable(),
    /** Past this the stage is stuck: an event is raised once. */
    deadlineAt: p.datetime().nullable(),
    stuckReportedAt: p.datetime().nullable(),
  }),
  indexes: [
    { name: 'workflow_stages_recheck', expression: 'create index "workflow_stages_recheck" on "workflow_stages" ("recheck_at") where "recheck_at" is not null' },
  ],
});
export type WorkflowStage = InferEntity<typeof WorkflowStage>;
