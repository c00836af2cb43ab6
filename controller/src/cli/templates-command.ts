// certflowctl templates list | show NAME [--version N] | create NAME --file F | update NAME --file F | archive NAME | versions NAME
import { readFile } from 'node:fs/promises';
import { CliError, UsageError } from './cli-errors.js';
import { apiClient, intOption, parseCommand, printJson, type CommandContext } from './command.js';
import { formatDateTime, formatFields, formatTable, truncate } from './table.js';
import type { TemplateDetail, TemplateSummary, TemplateVersionSummary } from '../api/template-schemas.js';

export const TEMPLATES_USAGE = [
  'usage: certflowctl templates list [--all] [--json]',
  '       certflowctl templates show NAME [--version N] [--json]',
  '       certflowctl templates create NAME --file DOCUMENT.json [--json]',
  '       certflowctl templates update NAME --file DOCUMENT.json [--expected-version N] [--json]',
  '       certflowctl templates archive NAME [--json]',
  '       certflowctl templates versions NAME [--json]',
].join('\n');

const path = (name: string) => `/api/v1/templates/${encodeURIComponent(name)}`;

/** The template document in a JSON file (see docs/templates.md); the API validates it. */
async function readDocument(file: string | undefined): Promise<unknown> {
  if (!file) throw new UsageError('--file is required', TEMPLATES_USAGE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new CliError(`cannot read ${file}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`, { cause });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new CliError(`${file} is not JSON: ${(cause as Error).message}`, { cause });
  }
}

function printTemplate(ctx: CommandContext, t: TemplateDetail): void {
  const version = t.version === t.currentVersion ? `${t.version} (current)` : `${t.version} (current is ${t.currentVersion})`;
  ctx.print(formatFields([
    ['name', t.name],
    ['description', t.description ?? '-'],
    ['version', version],
    ['version written', `${formatDateTime(t.versionCreatedAt)} by ${t.versionCreatedBy}`],
    ['auto-adopts', t.autoAdopts ? 'yes' : 'no'],
    ['status', t.archivedAt ? `archived ${formatDateTime(t.archivedAt)}` : 'active'],
  ]));
  ctx.print(`document:\n${JSON.stringify(t.document, null, 2)}\n`);
}

export async function templatesCommand(args: string[], ctx: CommandContext): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === 'list') {
    const parsed = parseCommand(rest, { usage: TEMPLATES_USAGE, booleans: ['all'] });
    const { items } = await apiClient(parsed, ctx).get<{ items: TemplateSummary[] }>('/api/v1/templates', {
      includeArchived: parsed.booleans.all ? 'true' : undefined,
    });
    if (parsed.json) return printJson(ctx, { items });
    ctx.print(formatTable(items, [
      { header: 'NAME', value: (t) => t.name },
      { header: 'VERSION', value: (t) => String(t.currentVersion), align: 'right' },
      { header: 'AUTO-ADOPTS', value: (t) => (t.autoAdopts ? 'yes' : 'no') },
      { header: 'UPDATED', value: (t) => formatDateTime(t.updatedAt) },
      { header: 'STATUS', value: (t) => (t.archivedAt ? 'archived' : 'active') },
      { header: 'DESCRIPTION', value: (t) => truncate(t.description ?? '', 60) },
    ]));
    return;
  }
  if (sub === 'show') {
    const parsed = parseCommand(rest, { usage: TEMPLATES_USAGE, strings: ['version'], positionals: ['NAME'] });
    const version = intOption(parsed, 'version');
    const name = parsed.positionals[0];
    const template = await apiClient(parsed, ctx).get<TemplateDetail>(version === undefined ? path(name) : `${path(name)}/versions/${version}`);
    if (parsed.json) return printJson(ctx, template);
    printTemplate(ctx, template);
    return;
  }
  if (sub === 'create') {
    const parsed = parseCommand(rest, { usage: TEMPLATES_USAGE, strings: ['file'], positionals: ['NAME'] });
    const document = await readDocument(parsed.strings.file);
    const created = await apiClient(parsed, ctx).post<TemplateDetail>('/api/v1/templates', { name: parsed.positionals[0], document });
    if (parsed.json) return printJson(ctx, created);
    ctx.print(`template "${created.name}" created (version ${created.version})\n`);
    return;
  }
  if (sub === 'update') {
    const parsed = parseCommand(rest, { usage: TEMPLATES_USAGE, strings: ['file', 'expected-version'], positionals: ['NAME'] });
    const document = await readDocument(parsed.strings.file);
    const updated = await apiClient(parsed, ctx).put<TemplateDetail>(path(parsed.positionals[0]), {
      document, expectedVersion: intOption(parsed, 'expected-version'),
    });
    if (parsed.json) return printJson(ctx, updated);
    ctx.print(`template "${updated.name}" updated: version ${updated.version}\n`);
    return;
  }
  if (sub === 'archive') {
    const parsed = parseCommand(rest, { usage: TEMPLATES_USAGE, positionals: ['NAME'] });
    const archived = await apiClient(parsed, ctx).delete<TemplateDetail>(path(parsed.positionals[0]));
    if (parsed.json) return printJson(ctx, archived);
    ctx.print(`template "${archived.name}" archived; its versions stay readable\n`);
    return;
  }
  if (sub === 'versions') {
    const parsed = parseCommand(rest, { usage: TEMPLATES_USAGE, positionals: ['NAME'] });
    const list = await apiClient(parsed, ctx).get<{ name: string; items: TemplateVersionSummary[] }>(`${path(parsed.positionals[0])}/versions`);
    if (parsed.json) return printJson(ctx, list);
    ctx.print(formatTable(list.items, [
      { header: 'VERSION', value: (v) => String(v.version), align: 'right' },
      { header: 'WRITTEN', value: (v) => formatDateTime(v.createdAt) },
      { header: 'BY', value: (v) => v.createdBy },
      { header: 'CURRENT', value: (v) => (v.current ? 'yes' : '') },
    ]));
    return;
  }
  throw new UsageError(sub ? `unknown templates command "${sub}"` : 'missing templates command', TEMPLATES_USAGE);
}
