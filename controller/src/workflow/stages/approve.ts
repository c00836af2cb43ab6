// approve-issue / approve-deploy: the template's approval gate before issuing or before deploying.
// Opens level 1, waits; each decided level (see approvals.ts) wakes this stage, which opens the next
// level, ends the run on a rejection, or lets the run go on when the last level is approved.
import { ApprovalRequest } from '../../db/entities/approval.js';
import { openLevel, type ApprovalGate } from '../approvals.js';
import type { StageHandler } from '../stage-handler.js';

export function approvalGate(gate: ApprovalGate): StageHandler {
  return async (ctx) => {
    const { tx, run, template, deps } = ctx;
    const spec = template.approval.gates.find((g) => g.before === gate);
    if (!spec) return { type: 'done', skipped: true, output: { approval: 'not required' } };
    const now = deps.now();
    const requests = await tx.find(ApprovalRequest, { runId: run.id, gate }, { orderBy: { level: 'asc' } });
    const last = requests.at(-1);
    if (last?.state === 'rejected') return { type: 'fail', error: `approval level "${last.levelName}" was rejected`, finishAs: 'rejected' };
    if (last?.state === 'pending') {
      return { type: 'wait', reason: `approval level "${last.levelName}" (${last.level + 1} of ${spec.levels.length})`, runState: 'waiting-approval', recheckInMs: 3600_000 };
    }
    const nextLevel = last ? last.level + 1 : 0;
    if (nextLevel >= spec.levels.length) {
      return { type: 'done', output: { levels: requests.map((r) => ({ level: r.level, name: r.levelName, state: r.state, decidedAt: r.decidedAt?.toISOString() })) } };
    }
    await openLevel(tx, { box: deps.box, subjects: deps.subjects, publicUrl: deps.publicUrl }, run, gate, nextLevel, spec.levels[nextLevel]!, spec.deadlineHours, now);
    return { type: 'wait', reason: `approval level "${spec.levels[nextLevel]!.name}" (${nextLevel + 1} of ${spec.levels.length})`, runState: 'waiting-approval', recheckInMs: 3600_000 };
  };
}
