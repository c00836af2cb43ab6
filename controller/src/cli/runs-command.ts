// certflowctl runs list | show ID | cancel | retry | rollback | accept ID | watch ID
import { setTimeout as sleep } from 'node:timers/promises';
import { CliError, UsageError } from './cli-errors.js';
import { apiClient, intOption, parseCommand, printJson, type CommandContext } from './command.js';
import { formatDateTime, formatDuration, formatFields, formatTable, pageFooter, truncate } from './table.js';
import type { ApprovalView, RunDetail, RunSummary, StageView } from '../api/workflow-schemas.js';

export const RUNS_USAGE = [
  'usage: certflowctl runs list [--state S] [--active] [--certificate MANAGED_ID] [--limit N] [--offset N] [--json]',
  '       certflowctl runs show ID [--json]',
  '       certflowctl runs cancel|retry|rollback|accept ID [--json]',
  '       certflowctl runs watch ID [--interval SECONDS]   (until the run ends; exit 0 only if it succeeded)',
].join('\n');

/** States a run never leaves (the API's list, as runs.ts has it). */
const FINISHED = new Set(['succeeded', 'failed', 'rejected', 'cancelled', 'rolled-back']);
const ACTIONS = new Set(['cancel', 'retry', 'rollback', 'accept']);
const path = (id: string) => `/api/v1/runs/${encodeURIComponent(id)}`;

export async function runsCommand(args: string[], ctx: CommandContext): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === 'list') return listRuns(rest, ctx);
  if (sub === 'show') return showRun(rest, ctx);
  if (sub === 'watch') return watchRun(rest, ctx);
  if (sub && ACTIONS.has(sub)) return actOnRun(sub, rest, ctx);
  throw new UsageError(sub ? `unknown runs command "${sub}"` : 'missing runs command', RUNS_USAGE);
}

async function listRuns(args: string[], ctx: CommandContext): Promise<void> {
  const parsed = parseCommand(args, { usage: RUNS_USAGE, strings: ['state', 'certificate', 'limit', 'offset'], booleans: ['active'] });
  const page = await apiClient(parsed, ctx).get<{ items: RunSummary[]; total: number; offset: number }>('/api/v1/runs', {
    state: parsed.strings.state, active: parsed.booleans.active ? 'true' : undefined, managedCertificate: parsed.strings.certificate,
    limit: intOption(parsed, 'limit'), offset: intOption(parsed, 'offset'),
  });
  if (parsed.json) return printJson(ctx, page);
  if (page.items.length > 0) {
    ctx.print(formatTable(page.items, [
      { header: 'ID', value: (r) => r.id },
      { header: 'CERTIFICATE', value: (r) => truncate(r.certificate, 40) },
      { header: 'STATE', value: (r) => r.state },
      { header: 'STAGE', value: (r) => r.currentStage },
      { header: 'REASON', value: (r) => r.reason },
      { header: 'STARTED', value: (r) => formatDateTime(r.createdAt) },
      { header: 'DURATION', value: (r) => formatDuration(r.durationMs), align: 'right' },
      { header: 'ERROR', value: (r) => truncate(r.error ?? '', 60) },
    ]));
  }
  ctx.print(pageFooter(page, 'runs'));
}

function stageTable(stages: StageView[]): string {
  return formatTable(stages, [
    { header: 'STAGE', value: (s) => s.stage },
    { header: 'STATE', value: (s) => s.state },
    { header: 'ATTEMPTS', value: (s) => String(s.attempts), align: 'right' },
    { header: 'ELAPSED', value: (s) => formatDuration(s.elapsedMs), align: 'right' },
    { header: 'ACTIVE', value: (s) => formatDuration(s.activeMs), align: 'right' },
    { header: 'ERROR', value: (s) => truncate(s.error ?? '', 80) },
  ]);
}

export function approvalTable(approvals: ApprovalView[], withRun = false): string {
  return formatTable(approvals, [
    { header: 'ID', value: (a) => a.id },
    ...(withRun ? [{ header: 'RUN', value: (a: ApprovalView) => a.runId }, { header: 'CERTIFICATE', value: (a: ApprovalView) => truncate(a.certificate ?? '-', 40) }] : []),
    { header: 'GATE', value: (a) => a.gate },
    { header: 'LEVEL', value: (a) => `${a.level + 1} ${a.levelName}` },
    { header: 'STATE', value: (a) => a.state },
    { header: 'APPROVED', value: (a) => `${a.decisions.filter((d) => d.decision === 'approve').length}/${a.required}`, align: 'right' },
    { header: 'APPROVERS', value: (a) => truncate([...(a.approvers.roles ?? []).map((r) => `role:${r}`), ...(a.approvers.tokens ?? []).map((t) => `token:${t}`)].join(' '), 50) },
    { header: 'DEADLINE', value: (a) => formatDateTime(a.deadlineAt) },
  ]);
}

async function showRun(args: string[], ctx: CommandContext): Promise<void> {
  const parsed = parseCommand(args, { usage: RUNS_USAGE, positionals: ['ID'] });
  const run = await apiClient(parsed, ctx).get<RunDetail>(path(parsed.positionals[0]));
  if (parsed.json) return printJson(ctx, run);
  printRun(ctx, run);
}

function printRun(ctx: CommandContext, run: RunDetail): void {
  ctx.print(formatFields([
    ['Run', run.id],
    ['Certificate', `${run.certificate} (${run.managedCertificateId})`],
    ['DNS names', run.dnsNames.join(', ') || '-'],
    ['Template', `${run.template} v${run.templateVersion}`],
    ['State', run.state],
    ['Current stage', run.currentStage],
    ['Reason', `${run.reason} (requested by ${run.requestedBy})`],
    ['Started', formatDateTime(run.createdAt)],
    ['Finished', run.finishedAt ? `${formatDateTime(run.finishedAt)} after ${formatDuration(run.durationMs)}` : '-'],
    ['Error', run.error ?? '-'],
  ]));
  ctx.print(`\nStages:\n${run.stages.length ? stageTable(run.stages) : 'none yet\n'}`);
  if (run.approvals.length) ctx.print(`\nApprovals:\n${approvalTable(run.approvals)}`);
}

async function actOnRun(action: string, args: string[], ctx: CommandContext): Promise<void> {
  const parsed = parseCommand(args, { usage: RUNS_USAGE, positionals: ['ID'] });
  const run = await apiClient(parsed, ctx).post<RunDetail>(`${path(parsed.positionals[0])}/${action}`, {});
  if (parsed.json) return printJson(ctx, run);
  const done = { cancel: 'cancelled', retry: 'retried', rollback: 'rolling back', accept: 'accepted' }[action];
  ctx.print(`run ${run.id} ${done}: now ${run.state} (stage ${run.currentStage})\n`);
}

/**
 * Polls the run and prints each stage as it appears or changes state, then the run's end. With --json it
 * prints one JSON object a line (the changed stage, or the run's final summary) for scripts to follow.
 */
async function watchRun(args: string[], ctx: CommandContext): Promise<void> {
  const parsed = parseCommand(args, { usage: RUNS_USAGE, strings: ['interval'], positionals: ['ID'] });
  const interval = parsed.strings.interval === undefined ? 1 : Number(parsed.strings.interval);
  if (!Number.isFinite(interval) || interval < 0.1 || interval > 3600) throw new UsageError(`--interval expects seconds between 0.1 and 3600, got "${parsed.strings.interval}"`, RUNS_USAGE);
  const client = apiClient(parsed, ctx);
  const seen = new Map<string, string>();
  let lastRunState = '';
  for (;;) {
    const run = await client.get<RunDetail>(path(parsed.positionals[0]));
    const now = new Date().toISOString().slice(11, 19);
    if (run.state !== lastRunState) {
      lastRunState = run.state;
      if (!parsed.json && !FINISHED.has(run.state)) ctx.print(`${now}  run is ${run.state}${run.state === 'waiting-approval' ? ' (certflowctl approvals list)' : ''}\n`);
    }
    for (const stage of run.stages) {
      // One row per stage and run: a retried stage comes back as a new attempt of the same row.
      const key = `${stage.state}/${stage.attempts}`;
      if (seen.get(stage.stage) === key) continue;
      seen.set(stage.stage, key);
      if (parsed.json) ctx.print(JSON.stringify({ runId: run.id, ...stage }) + '\n');
      else ctx.print(`${now}  ${stage.stage.padEnd(14)} ${stage.state.padEnd(10)} attempt ${stage.attempts}  active ${formatDuration(stage.activeMs)}${stage.error ? `  error: ${stage.error}` : ''}\n`);
    }
    if (FINISHED.has(run.state)) {
      const { stages: _stages, approvals: _approvals, context: _context, ...summary } = run;
      if (parsed.json) ctx.print(JSON.stringify(summary) + '\n');
      else ctx.print(`run ${run.id} ${run.state} after ${formatDuration(run.durationMs)}${run.error ? `: ${run.error}` : ''}\n`);
      if (run.state !== 'succeeded') throw new CliError(`run ${run.id} ended ${run.state}`);
      return;
    }
    try {
      await sleep(interval * 1000, undefined, { signal: ctx.signal });
    } catch {
      throw new CliError('interrupted');
    }
  }
}
