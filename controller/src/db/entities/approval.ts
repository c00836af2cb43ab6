import { defineEntity, type InferEntity } from '@mikro-orm/postgresql';

export const APPROVAL_STATES = ['pending', 'approved', 'rejected', 'bypassed', 'cancelled'] as const;
export type ApprovalState = (typeof APPROVAL_STATES)[number];

export interface ApproversRecord {
  roles?: string[];
  tokens?: string[];
}

/** One level of one approval gate of one run: who may approve, how many must, and by when. */
export const ApprovalRequest = defineEntity({
  name: 'ApprovalRequest',
  tableName: 'approval_requests',
  properties: (p) => ({
    id: p.uuid().primary(),
    runId: p.uuid().index(),
    /** The stage it gates: 'issue' or 'deploy'. */
    gate: p.string(),
    level: p.integer(),
    levelName: p.string(),
    required: p.integer(),
    approvers: p.json<ApproversRecord>(),
    state: p.enum([...APPROVAL_STATES]),
    deadlineAt: p.datetime(),
    deadlineReportedAt: p.datetime().nullable(),
    createdAt: p.datetime(),
    decidedAt: p.datetime().nullable(),
  }),
  uniques: [{ properties: ['runId', 'gate', 'level'] }],
  indexes: [
    { name: 'approval_requests_pending', expression: 'create index "approval_requests_pending" on "approval_requests" ("deadline_at") where "state" = \'pending\'' },
  ],
});
export type ApprovalRequest = InferEntity<typeof ApprovalRequest>;

/** One approver's decision on one approval level; an approver decides a level once. */
export const ApprovalDecision = defineEntity({
  name: 'ApprovalDecision',
  tableName: 'approval_decisions',
  properties: (p) => ({
    id: p.uuid().primary(),
    approvalRequestId: p.uuid(),
    runId: p.uuid().index(),
    approverTokenId: p.string(),
    approverName: p.string(),
    decision: p.enum(['approve', 'reject', 'bypass']),
    comment: p.text().nullable(),
    /** 'api' or 'link' (a signed link from a notification). */
    via: p.string(),
    createdAt: p.datetime(),
  }),
  uniques: [{ properties: ['approvalRequestId', 'approverTokenId'] }],
});
export type ApprovalDecision = InferEntity<typeof ApprovalDecision>;

/** A signed approval link, bound to one approver and one run's approval level; usable once. */
export const ApprovalLink = defineEntity({
  name: 'ApprovalLink',
  tableName: 'approval_links',
  properties: (p) => ({
    id: p.uuid().primary(),
    approvalRequestId: p.uuid().index(),
    runId: p.uuid(),
    approverTokenId: p.string(),
    expiresAt: p.datetime(),
    usedAt: p.datetime().nullable(),
    createdAt: p.datetime(),
  }),
});
export type ApprovalLink = InferEntity<typeof ApprovalLink>;
