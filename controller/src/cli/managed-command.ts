// certflowctl managed list | show ID | adopt CERT | declare NAME | renew ID | pause | resume | retire ID
import { readFile } from 'node:fs/promises';
import { CliError, UsageError } from './cli-errors.js';
import { apiClient, intOption, parseCommand, printJson, type CommandContext, type ParsedCommand } from './command.js';
import { formatDate, formatDateTime, formatFields, formatTable, pageFooter, truncate } from './table.js';
import type { ManagedSummary, RunSummary } from '../api/workflow-schemas.js';

export const MANAGED_USAGE = [
  'usage: certflowctl managed list [--state active|paused|retired] [--template T] [--q TEXT] [--limit N] [--offset N] [--json]',
  '       certflowctl managed show ID [--json]',
  '       certflowctl managed adopt CERT_ID_OR_FINGERPRINT [--template T] [--name N] [--label k=v ...] [--json]',
  '       certflowctl managed declare NAME --dns a.example [--dns b.example ...] --target-file TARGETS.json',
  '                                   [--template T] [--label k=v ...] [--json]',
  '       certflowctl managed renew ID [--json]   (prints the id of the run it started)',
  '       certflowctl managed pause|resume|retire ID [--json]',
].join('\n');

const path = (id: string) => `/api/v1/managed-certificates/${encodeURIComponent(id)}`;

/** What each state-changing subcommand sets the certificate's state to. */
const STATE_OF: Record<string, ManagedSummary['state']> = { pause: 'paused', resume: 'active', retire: 'retired' };

export async function managedCommand(args: string[], ctx: CommandContext): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === 'list') return listManaged(rest, ctx);
  if (sub === 'show') return showManaged(rest, ctx);
  if (sub === 'adopt') return adoptManaged(rest, ctx);
  if (sub === 'declare') return declareManaged(rest, ctx);
  if (sub === 'renew') return renewManaged(rest, ctx);
  if (sub && sub in STATE_OF) return changeState(sub, rest, ctx);
  throw new UsageError(sub ? `unknown managed command "${sub}"` : 'missing managed command', MANAGED_USAGE);
}

async function listManaged(args: string[], ctx: CommandContext): Promise<void> {
  const parsed = parseCommand(args, { usage: MANAGED_USAGE, strings: ['state', 'template', 'q', 'limit', 'offset'] });
  const page = await apiClient(parsed, ctx).get<{ items: ManagedSummary[]; total: number; offset: number }>('/api/v1/managed-certificates', {
    state: parsed.strings.state, template: parsed.strings.template, q: parsed.strings.q,
    limit: intOption(parsed, 'limit'), offset: intOption(parsed, 'offset'),
  });
  if (parsed.json) return printJson(ctx, page);
  if (page.items.length > 0) {
    ctx.print(formatTable(page.items, [
      { header: 'ID', value: (m) => m.id },
      { header: 'NAME', value: (m) => truncate(m.name, 40) },
      { header: 'TEMPLATE', value: (m) => m.template },
      { header: 'STATE', value: (m) => m.state },
      { header: 'NOT AFTER', value: (m) => formatDate(m.currentNotAfter) },
      { header: 'RENEW AFTER', value: (m) => formatDate(m.renewAfter) },
      { header: 'LAST RUN', value: (m) => (m.activeRunId ? 'active' : m.lastRun?.state ?? '-') },
      { header: 'FAILURES', value: (m) => String(m.consecutiveFailures), align: 'right' },
    ]));
  }
  ctx.print(pageFooter(page, 'managed certificates'));
}

function printManaged(ctx: CommandContext, m: ManagedSummary): void {
  ctx.print(formatFields([
    ['ID', m.id],
    ['Name', m.name],
    ['Template', m.template],
    ['State', m.state],
    ['DNS names', m.dnsNames.join(', ') || '-'],
    ['IP addresses', m.ipAddresses.join(', ') || '-'],
    ['Labels', Object.entries(m.labels).map(([k, v]) => `${k}=${v}`).join(', ') || '-'],
    ['Adopted by', m.adoptedBy],
    ['Current certificate', m.currentFingerprintSha256 ?? '- (not issued yet)'],
    ['Not after', formatDateTime(m.currentNotAfter)],
    ['Renew after', formatDateTime(m.renewAfter)],
    ['Failures in a row', m.consecutiveFailures ? `${m.consecutiveFailures} (backing off until ${formatDateTime(m.backoffUntil)})` : '0'],
    ['Last run', m.lastRun ? `${m.lastRun.id} ${m.lastRun.state} (${formatDateTime(m.lastRun.createdAt)})` : '-'],
    ['Active run', m.activeRunId ?? '-'],
  ]));
  if (m.targets.length > 0) {
    ctx.print(`\nTargets:\n${formatTable(m.targets, [
      { header: 'AGENT', value: (t) => t.agentId },
      { header: 'KIND', value: (t) => t.kind },
      { header: 'OPTIONS', value: (t) => truncate(JSON.stringify(t.options), 80) },
      { header: 'ENDPOINTS', value: (t) => (t.endpoints ?? []).map((e) => `${e.host}:${e.port}`).join(' ') || '-' },
    ])}`);
  } else {
    ctx.print('\nTargets: none\n');
  }
}

async function showManaged(args: string[], ctx: CommandContext): Promise<void> {
  const parsed = parseCommand(args, { usage: MANAGED_USAGE, positionals: ['ID'] });
  const managed = await apiClient(parsed, ctx).get<ManagedSummary>(path(parsed.positionals[0]));
  if (parsed.json) return printJson(ctx, managed);
  printManaged(ctx, managed);
}

/** --label k=v, any number of times; the API checks the key's and value's form. */
function labelsOf(parsed: ParsedCommand): Record<string, string> | undefined {
  const given = parsed.lists.label ?? [];
  if (given.length === 0) return undefined;
  const labels: Record<string, string> = {};
  for (const pair of given) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`--label expects key=value, got "${pair}"`, MANAGED_USAGE);
    labels[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return labels;
}

async function adoptManaged(args: string[], ctx: CommandContext): Promise<void> {
  const parsed = parseCommand(args, { usage: MANAGED_USAGE, strings: ['template', 'name'], lists: ['label'], positionals: ['CERT_ID_OR_FINGERPRINT'] });
  const managed = await apiClient(parsed, ctx).post<ManagedSummary>('/api/v1/managed-certificates', {
    certificate: parsed.positionals[0], template: parsed.strings.template, name: parsed.strings.name, labels: labelsOf(parsed),
  });
  if (parsed.json) return printJson(ctx, managed);
  ctx.print(`adopted as managed certificate ${managed.id} ("${managed.name}", template ${managed.template})\n`);
}

/** The deployment targets in a JSON file: an array of {agentId, kind, options, endpoints?} (or one such object). */
async function readTargets(file: string | undefined): Promise<unknown[]> {
  if (!file) throw new UsageError('--target-file is required', MANAGED_USAGE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new CliError(`cannot read ${file}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`, { cause });
  }
  let targets: unknown;
  try {
    targets = JSON.parse(text) as unknown;
  } catch (cause) {
    throw new CliError(`${file} is not JSON: ${(cause as Error).message}`, { cause });
  }
  return Array.isArray(targets) ? targets : [targets];
}

async function declareManaged(args: string[], ctx: CommandContext): Promise<void> {
  const parsed = parseCommand(args, { usage: MANAGED_USAGE, strings: ['template', 'target-file'], lists: ['dns', 'label'], positionals: ['NAME'] });
  const dnsNames = parsed.lists.dns;
  if (dnsNames.length === 0) throw new UsageError('at least one --dns NAME is required', MANAGED_USAGE);
  const targets = await readTargets(parsed.strings['target-file']);
  const managed = await apiClient(parsed, ctx).post<ManagedSummary>('/api/v1/managed-certificates', {
    name: parsed.positionals[0], dnsNames, targets, template: parsed.strings.template, labels: labelsOf(parsed),
  });
  if (parsed.json) return printJson(ctx, managed);
  ctx.print(`declared managed certificate ${managed.id} ("${managed.name}", template ${managed.template}, ${managed.targets.length} target${managed.targets.length === 1 ? '' : 's'})\n`);
}

async function renewManaged(args: string[], ctx: CommandContext): Promise<void> {
  const parsed = parseCommand(args, { usage: MANAGED_USAGE, positionals: ['ID'] });
  const run = await apiClient(parsed, ctx).post<RunSummary>(`${path(parsed.positionals[0])}/renew`, {});
  if (parsed.json) return printJson(ctx, run);
  // The id alone, so that RUN=$(certflowctl managed renew ID) works; `runs watch $RUN` follows it.
  ctx.print(`${run.id}\n`);
}

async function changeState(sub: string, args: string[], ctx: CommandContext): Promise<void> {
  const parsed = parseCommand(args, { usage: MANAGED_USAGE, positionals: ['ID'] });
  const managed = await apiClient(parsed, ctx).patch<ManagedSummary>(path(parsed.positionals[0]), { state: STATE_OF[sub] });
  if (parsed.json) return printJson(ctx, managed);
  ctx.print(`managed certificate ${managed.id} ("${managed.name}") is now ${managed.state}\n`);
}
