import { defineEntity, type InferEntity } from '@mikro-orm/postgresql';

export const RUN_STATES = [
  'running', 'waiting-approval', 'waiting-operator', 'rollback-failed',
  'succeeded', 'failed', 'rejected', 'cancelled', 'rolled-back',
] as const;
export type RunState = (typeof RUN_STATES)[number];
/** States a run never leaves. The other states hold the certificate: no second run can start. */
export const FINISHED_RUN_STATES: readonly RunState[] = ['succeeded', 'failed', 'rejected', 'cancelled', 'rolled-back'];
/** The same list as SQL, for `state in ...` / `state not in ...` (and the one-active-run index's predicate). */
export const FINISHED_RUN_STATES_SQL = `(${FINISHED_RUN_STATES.map((s) => `'${s}'`).join(', ')})`;

/** One renewal of one managed certificate, through the stages of controller/src/workflow/stages/. */
export const WorkflowRun = defineEntity({
  name: 'WorkflowRun',
  tableName: 'workflow_runs',
  properties: (p) => ({
    id: p.uuid().primary(),
    managedCertificateId: p.uuid().index(),
    templateId: p.uuid(),
    templateVersion: p.integer(),
    state: p.enum([...RUN_STATES]),
    currentStage: p.string(),
    /** 'scheduled', 'manual' (renew now) or 'declared'. */
    reason: p.string(),
    /** 'scheduler' or the admin token id that asked: that token can never approve this run. */
    requestedBy: p.string(),
    /** What the stages decided and produced (CA, key ids, job ids, issued certificates); never key material. */
    context: p.json<Record<string, unknown>>(),
    error: p.text().nullable(),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
    finishedAt: p.datetime().nullable(),
  }),
  indexes: [{ properties: ['state', 'createdAt'] }],
  uniques: [
    // Never two runs at once for one certificate, whatever the scheduler or an operator does.
    { name: 'workflow_runs_one_active', expression: 'create unique index "workflow_runs_one_active" on "workflow_runs" ("managed_certificate_id") where "state" not in (\'succeeded\', \'failed\', \'rejected\', \'cancelled\', \'rolled-back\')' },
  ],
});
export type WorkflowRun = InferEntity<typeof WorkflowRun>;
