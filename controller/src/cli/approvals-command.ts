// certflowctl approvals list | approve ID | reject ID | bypass ID --comment C
import { UsageError } from './cli-errors.js';
import { apiClient, parseCommand, printJson, type CommandContext } from './command.js';
import { approvalTable } from './runs-command.js';
import type { ApprovalView } from '../api/workflow-schemas.js';

export const APPROVALS_USAGE = [
  'usage: certflowctl approvals list [--state pending|approved|rejected|bypassed|cancelled] [--run RUN_ID] [--json]',
  '       certflowctl approvals approve ID [--comment C] [--json]',
  '       certflowctl approvals reject ID [--comment C] [--json]',
  '       certflowctl approvals bypass ID --comment WHY [--json]   (admins only; recorded in the audit trail)',
].join('\n');

const DECISION_OF: Record<string, 'approve' | 'reject' | 'bypass'> = { approve: 'approve', reject: 'reject', bypass: 'bypass' };

export async function approvalsCommand(args: string[], ctx: CommandContext): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === 'list') return listApprovals(rest, ctx);
  if (sub && sub in DECISION_OF) return decideApproval(DECISION_OF[sub]!, rest, ctx);
  throw new UsageError(sub ? `unknown approvals command "${sub}"` : 'missing approvals command', APPROVALS_USAGE);
}

async function listApprovals(args: string[], ctx: CommandContext): Promise<void> {
  const parsed = parseCommand(args, { usage: APPROVALS_USAGE, strings: ['state', 'run'] });
  const { items } = await apiClient(parsed, ctx).get<{ items: ApprovalView[] }>('/api/v1/approvals', { state: parsed.strings.state, runId: parsed.strings.run });
  if (parsed.json) return printJson(ctx, { items });
  if (items.length === 0) {
    ctx.print(`No ${parsed.strings.state ?? 'pending'} approvals.\n`);
    return;
  }
  ctx.print(approvalTable(items, true));
}

async function decideApproval(decision: 'approve' | 'reject' | 'bypass', args: string[], ctx: CommandContext): Promise<void> {
  const parsed = parseCommand(args, { usage: APPROVALS_USAGE, strings: ['comment'], positionals: ['ID'] });
  const comment = parsed.strings.comment;
  // A bypass skips every approver: the API records it, and the record should say why.
  if (decision === 'bypass' && !comment?.trim()) throw new UsageError('bypass needs --comment saying why', APPROVALS_USAGE);
  const approval = await apiClient(parsed, ctx).post<ApprovalView>(`/api/v1/approvals/${encodeURIComponent(parsed.positionals[0])}/decision`, { decision, comment });
  if (parsed.json) return printJson(ctx, approval);
  const approvals = approval.decisions.filter((d) => d.decision === 'approve').length;
  const done = { approve: 'approved', reject: 'rejected', bypass: 'bypassed' }[decision];
  const where = `level ${approval.level + 1} "${approval.levelName}" of run ${approval.runId}`;
  if (approval.state === 'pending') ctx.print(`${done} ${where}: ${approvals} of ${approval.required} approvals so far, still pending\n`);
  else ctx.print(`${done} ${where}: the level is now ${approval.state}\n`);
}
