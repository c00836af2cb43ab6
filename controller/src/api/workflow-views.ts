// Reading runs, stages, approvals and managed certificates into the API's shapes.
import type { EntityManager } from '@mikro-orm/postgresql';
import { ApprovalDecision, ApprovalRequest } from '../db/entities/approval.js';
import type { ManagedCertificate } from '../db/entities/managed-certificate.js';
import { FINISHED_RUN_STATES, type RunState } from '../db/entities/workflow-run.js';
import { WorkflowStage } from '../db/entities/workflow-stage.js';
import type { ApprovalView, ManagedSummary, RunDetail, RunSummary, StageView } from './workflow-schemas.js';
import { pgArray } from '../db/pg-array.js';

const iso = (d: Date | string | null | undefined) => (d ? new Date(d).toISOString() : null);

export interface RunRow {
  id: string; managed_certificate_id: string; certificate: string; dns_names: string[]; template: string; template_version: number;
  state: string; current_stage: string; reason: string; requested_by: string; error: string | null;
  created_at: string | Date; finished_at: string | Date | null; context: Record<string, unknown>;
}

export const RUN_SELECT = `select r.id, r.managed_certificate_id, m.name as certificate, m.dns_names, coalesce(t.name, '(deleted)') as template, r.template_version,
  r.state, r.current_stage, r.reason, r.requested_by, r.error, r.created_at, r.finished_at, r.context
  from workflow_runs r join managed_certificates m on m.id = r.managed_certificate_id left join templates t on t.id = r.template_id`;

export function runSummaryOf(row: RunRow): RunSummary {
  const created = new Date(row.created_at);
  return {
    id: row.id, managedCertificateId: row.managed_certificate_id, certificate: row.certificate, dnsNames: row.dns_names,
    template: row.template, templateVersion: row.template_version, state: row.state, currentStage: row.current_stage,
    reason: row.reason, requestedBy: row.requested_by, error: row.error, createdAt: created.toISOString(), finishedAt: iso(row.finished_at),
    durationMs: row.finished_at ? new Date(row.finished_at).getTime() - created.getTime() : null,
  };
}

export async function runDetailOf(em: EntityManager, row: RunRow): Promise<RunDetail> {
  const stages = await em.find(WorkflowStage, { runId: row.id }, { orderBy: { seq: 'asc' }, disableIdentityMap: true });
  const now = Date.now();
  const stageViews: StageView[] = stages.map((s) => ({
    stage: s.stage, state: s.state, attempts: s.attempts, startedAt: iso(s.startedAt), finishedAt: iso(s.finishedAt),
    elapsedMs: s.startedAt ? (s.finishedAt ?? new Date(now)).getTime() - s.startedAt.getTime() : null,
    activeMs: s.activeMs, output: s.output ?? null, error: s.error ?? null, history: s.history,
  }));
  return { ...runSummaryOf(row), stages: stageViews, approvals: await approvalsOf(em, { runId: row.id }), context: publicContext(row.context) };
}

/** The run's context without certificate bodies (they are long and public anyway; fingerprints stay). */
function publicContext(context: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(context, (key, value) => (key === 'certificatePem' || key === 'chainPem' ? undefined : value)));
}

export async function approvalsOf(em: EntityManager, filter: { runId?: string; state?: string }): Promise<ApprovalView[]> {
  const where: Record<string, unknown> = {};
  if (filter.runId) where.runId = filter.runId;
  if (filter.state) where.state = filter.state;
  const requests = await em.find(ApprovalRequest, where, { orderBy: { createdAt: 'asc' }, limit: 500, disableIdentityMap: true });
  if (requests.length === 0) return [];
  const decisions = await em.find(ApprovalDecision, { approvalRequestId: { $in: requests.map((r) => r.id) } }, { orderBy: { createdAt: 'asc' }, disableIdentityMap: true });
  const names = await em.execute<{ run_id: string; name: string; dns_names: string[] }[]>(
    'select r.id as run_id, m.name, m.dns_names from workflow_runs r join managed_certificates m on m.id = r.managed_certificate_id where r.id = any(?::uuid[])',
    [pgArray([...new Set(requests.map((r) => r.runId))])]);
  return requests.map((r) => {
    const cert = names.find((n) => n.run_id === r.runId);
    return {
      id: r.id, runId: r.runId, gate: r.gate, level: r.level, levelName: r.levelName, required: r.required, approvers: r.approvers, state: r.state,
      deadlineAt: r.deadlineAt.toISOString(), createdAt: r.createdAt.toISOString(), decidedAt: iso(r.decidedAt),
      decisions: decisions.filter((d) => d.approvalRequestId === r.id).map((d) => ({
        approver: d.approverName, approverTokenId: d.approverTokenId, decision: d.decision, comment: d.comment ?? null, via: d.via, at: d.createdAt.toISOString(),
      })),
      ...(cert ? { certificate: cert.name, dnsNames: cert.dns_names } : {}),
    };
  });
}

export async function managedSummaries(em: EntityManager, rows: ManagedCertificate[]): Promise<ManagedSummary[]> {
  if (rows.length === 0) return [];
  const templates = await em.execute<{ id: string; name: string }[]>('select id, name from templates where id = any(?::uuid[])', [pgArray([...new Set(rows.map((r) => r.templateId))])]);
  const runs = await em.execute<{ managed_certificate_id: string; id: string; state: string; created_at: string | Date }[]>(
    `select distinct on (managed_certificate_id) managed_certificate_id, id, state, created_at from workflow_runs
      where managed_certificate_id = any(?::uuid[]) order by managed_certificate_id, created_at desc`, [pgArray(rows.map((r) => r.id))]);
  return rows.map((m) => {
    const last = runs.find((r) => r.managed_certificate_id === m.id);
    return {
      id: m.id, name: m.name, template: templates.find((t) => t.id === m.templateId)?.name ?? '?', dnsNames: m.dnsNames, ipAddresses: m.ipAddresses,
      labels: m.labels, targets: m.targets as ManagedSummary['targets'], state: m.state, adoptedBy: m.adoptedBy, currentFingerprintSha256: m.currentFingerprintSha256 ?? null,
      currentNotAfter: iso(m.currentNotAfter), renewAfter: iso(m.renewAfter), consecutiveFailures: m.consecutiveFailures, backoffUntil: iso(m.backoffUntil),
      lastRun: last ? { id: last.id, state: last.state, createdAt: new Date(last.created_at).toISOString() } : null,
      activeRunId: last && !FINISHED_RUN_STATES.includes(last.state as RunState) ? last.id : null,
    };
  });
}
