// Approval gates: each gate of a template is a list of levels, decided in order. A level is approved when
// `required` distinct allowed approvers approve; one rejection rejects it and ends the run. The
// requester of a run never approves it. An admin may bypass a level in an emergency; that is recorded.
// Deciding a level enqueues the gate's stage, which then opens the next level or lets the run go on.
import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { appendAudit, appendAuditDeferred } from '../audit/audit-trail.js';
import type { SecretBox } from '../crypto/master-key.js';
import { ApprovalDecision, ApprovalRequest } from '../db/entities/approval.js';
import { FINISHED_RUN_STATES, WorkflowRun } from '../db/entities/workflow-run.js';
import type { Subjects } from '../messaging/subjects.js';
import { createApprovalLink } from './approval-links.js';
import { enqueueEvent, enqueueStage } from './outbox.js';
import { loadManaged, runEvent } from './run-transitions.js';
import type { StageName } from './stage-names.js';
import { pgArray } from '../db/pg-array.js';

export type ApprovalGate = 'issue' | 'deploy';
export const gateStage = (gate: ApprovalGate): StageName => (gate === 'issue' ? 'approve-issue' : 'approve-deploy');

export interface Approver {
  tokenId: string;
  name: string;
  role: string;
}

export class ApprovalRefusedError extends Error {
  override name = 'ApprovalRefusedError';
  constructor(message: string, readonly status: 403 | 404 | 409) {
    super(message);
  }
}

/** May this token decide this level? (It is named, or has a named role, and did not request the run.) */
export function mayApprove(request: ApprovalRequest, run: WorkflowRun, approver: Approver): string | null {
  if (run.requestedBy === approver.tokenId) return 'the requester of a run cannot approve it';
  const byToken = request.approvers.tokens?.includes(approver.tokenId) ?? false;
  const byRole = request.approvers.roles?.includes(approver.role) ?? false;
  if (!byToken && !byRole) return `${approver.name} is not an approver of level "${request.levelName}"`;
  return null;
}

/** Opens a level: the request row, one signed link per named approver token, and the approval.required event. */
export async function openLevel(
  tx: EntityManager, deps: { box: SecretBox; subjects: Subjects; publicUrl: string }, run: WorkflowRun,
  gate: ApprovalGate, level: number, spec: { name: string; required: number; approvers: { roles?: string[]; tokens?: string[] } }, deadlineHours: number, now: Date,
): Promise<ApprovalRequest> {
  const deadlineAt = new Date(now.getTime() + deadlineHours * 3600_000);
  const request = tx.create(ApprovalRequest, {
    id: randomUUID(), runId: run.id, gate, level, levelName: spec.name, required: spec.required, approvers: spec.approvers,
    state: 'pending', deadlineAt, deadlineReportedAt: null, createdAt: now, decidedAt: null,
  });
  await tx.flush();
  // Links for everyone who may approve: named tokens, and the live tokens holding a named role.
  const tokenRows = await tx.execute<{ id: string; name: string }[]>(
    `select id, name from admin_tokens where revoked_at is null and (expires_at is null or expires_at > now())
       and (id::text = any(?::text[]) or role = any(?::text[]))`,
    [pgArray(spec.approvers.tokens ?? []), pgArray(spec.approvers.roles ?? [])]);
  const approvalLinks = [];
  for (const token of tokenRows.filter((t) => t.id !== run.requestedBy)) {
    const signed = await createApprovalLink(tx, deps.box, { approvalRequestId: request.id, runId: run.id, approverTokenId: token.id, expiresAt: deadlineAt });
    approvalLinks.push({
      approver: token.id,
      approveUrl: `${deps.publicUrl}/approve/${signed}?decision=approve`,
      rejectUrl: `${deps.publicUrl}/approve/${signed}?decision=reject`,
    });
  }
  const managed = await loadManaged(tx, run.managedCertificateId);
  await enqueueEvent(tx, deps.subjects, runEvent(run, managed, {
    kind: 'approval.required', severity: 'info',
    summary: `Approval needed (${gate === 'issue' ? 'before issuing' : 'before deploying'}, level ${level + 1} "${spec.name}", ${spec.required} of the listed approvers) for ${managed.dnsNames.join(', ')}`,
    details: { stage: gateStage(gate), approvalLinks, approvalId: request.id, deadlineAt: deadlineAt.toISOString() },
  }, now));
  await appendAuditDeferred(tx, { actor: 'workflow', action: 'approval.requested', targetType: 'workflow_run', targetId: run.id, after: { gate, level, name: spec.name, required: spec.required, approvers: spec.approvers } });
  return request;
}

/**
 * Records one decision. Refuses: a finished run, a level already decided, an approver deciding twice,
 * the requester, someone not named. Bypass is for admins only and decides the level at once.
 */
export async function decide(
  tx: EntityManager, subjects: Subjects, input: { approvalId: string; approver: Approver; decision: 'approve' | 'reject' | 'bypass'; comment?: string; via: 'api' | 'link' }, now: Date,
): Promise<ApprovalRequest> {
  const [found] = await tx.execute<{ run_id: string }[]>('select run_id from approval_requests where id = ?', [input.approvalId]);
  if (!found) throw new ApprovalRefusedError('no such approval', 404);
  // Lock the run first (the runner's lock order), then the request.
  await tx.execute('select id from workflow_runs where id = ? for update', [found.run_id]);
  await tx.execute('select id from approval_requests where id = ? for update', [input.approvalId]);
  const run = await tx.findOneOrFail(WorkflowRun, { id: found.run_id });
  const request = await tx.findOneOrFail(ApprovalRequest, { id: input.approvalId });
  if (FINISHED_RUN_STATES.includes(run.state)) throw new ApprovalRefusedError(`the run is already ${run.state}`, 409);
  if (request.state !== 'pending') throw new ApprovalRefusedError(`this approval level is already ${request.state}`, 409);
  if (input.decision === 'bypass') {
    if (input.approver.role !== 'admin') throw new ApprovalRefusedError('only an admin can bypass an approval', 403);
  } else {
    const refusal = mayApprove(request, run, input.approver);
    if (refusal) throw new ApprovalRefusedError(refusal, 403);
  }
  const earlier = await tx.findOne(ApprovalDecision, { approvalRequestId: request.id, approverTokenId: input.approver.tokenId });
  if (earlier) throw new ApprovalRefusedError(`${input.approver.name} already decided this level (${earlier.decision})`, 409);
  tx.create(ApprovalDecision, {
    id: randomUUID(), approvalRequestId: request.id, runId: run.id, approverTokenId: input.approver.tokenId, approverName: input.approver.name,
    decision: input.decision, comment: input.comment ?? null, via: input.via, createdAt: now,
  });
  await tx.flush();
  const [{ approvals }] = await tx.execute<{ approvals: string }[]>(
    "select count(*) as approvals from approval_decisions where approval_request_id = ? and decision = 'approve'", [request.id]) as [{ approvals: string }];
  const before = request.state;
  if (input.decision === 'reject') request.state = 'rejected';
  else if (input.decision === 'bypass') request.state = 'bypassed';
  else if (Number(approvals) >= request.required) request.state = 'approved';
  if (request.state !== 'pending') request.decidedAt = now;
  await appendAudit(tx, {
    actor: `token:${input.approver.tokenId}`, action: input.decision === 'bypass' ? 'approval.bypassed' : `approval.${input.decision}d`,
    targetType: 'workflow_run', targetId: run.id,
    before: { level: request.level, state: before }, after: { level: request.level, levelName: request.levelName, state: request.state, via: input.via, comment: input.comment ?? null },
  });
  if (request.state !== 'pending') {
    const managed = await loadManaged(tx, run.managedCertificateId);
    await enqueueEvent(tx, subjects, runEvent(run, managed, {
      kind: 'approval.decided', severity: request.state === 'rejected' ? 'warning' : 'info',
      summary: `Approval level "${request.levelName}" ${request.state} by ${input.approver.name} for ${managed.dnsNames.join(', ')}`,
      details: { stage: gateStage(request.gate as ApprovalGate) },
    }, now));
    await enqueueStage(tx, subjects, { runId: run.id, stage: gateStage(request.gate as ApprovalGate) }, `${run.id}:approval:${request.id}`);
  }
  await tx.flush();
  return request;
}
