// certflowctl audit list | export | verify
import { CliError, UsageError } from './cli-errors.js';
import { apiClient, intOption, parseCommand, printJson, type CommandContext, type ParsedCommand } from './command.js';
import { formatTable, truncate } from './table.js';
import type { AuditEntry } from '../api/schemas.js';

export const AUDIT_USAGE = [
  'usage: certflowctl audit list [--actor A] [--action A] [--target-type T] [--target ID] [--since ISO] [--until ISO] [--after SEQ] [--limit N] [--json]',
  '       certflowctl audit export [--actor A] [--action A] [--target-type T] [--target ID] [--since ISO] [--until ISO]   (JSON Lines)',
  '       certflowctl audit verify [--json]',
].join('\n');

const FILTERS = ['actor', 'action', 'target-type', 'target', 'since', 'until'] as const;

export async function auditCommand(args: string[], ctx: CommandContext): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === 'list') return listAudit(rest, ctx);
  if (sub === 'export') return exportAudit(rest, ctx);
  if (sub === 'verify') return verifyAuditChain(rest, ctx);
  throw new UsageError(sub ? `unknown audit command "${sub}"` : 'missing audit command', AUDIT_USAGE);
}

function filterQuery(parsed: ParsedCommand) {
  return {
    actor: parsed.strings.actor, action: parsed.strings.action, targetType: parsed.strings['target-type'],
    targetId: parsed.strings.target, since: parsed.strings.since, until: parsed.strings.until,
  };
}

type Page = { items: AuditEntry[]; nextAfter: number | null };

async function listAudit(args: string[], ctx: CommandContext): Promise<void> {
  const parsed = parseCommand(args, { usage: AUDIT_USAGE, strings: [...FILTERS, 'after', 'limit'] });
  const page = await apiClient(parsed, ctx).get<Page>('/api/v1/audit', {
    ...filterQuery(parsed), after: intOption(parsed, 'after'), limit: intOption(parsed, 'limit'),
  });
  if (parsed.json) return printJson(ctx, page);
  if (page.items.length) {
    ctx.print(formatTable(page.items, [
      { header: 'SEQ', value: (e) => String(e.seq), align: 'right' },
      { header: 'AT', value: (e) => e.at.replace('T', ' ').slice(0, 19) },
      { header: 'ACTOR', value: (e) => truncate(e.actor, 40) },
      { header: 'ACTION', value: (e) => e.action },
      { header: 'TARGET', value: (e) => `${e.targetType}${e.targetId ? ` ${e.targetId}` : ''}` },
    ]));
  }
  ctx.print(page.nextAfter ? `more: --after ${page.nextAfter}\n` : `${page.items.length} entries\n`);
}

/** Pages through the trail and prints one JSON object per line, in chain order. */
async function exportAudit(args: string[], ctx: CommandContext): Promise<void> {
  const parsed = parseCommand(args, { usage: AUDIT_USAGE, strings: [...FILTERS] });
  const client = apiClient(parsed, ctx);
  for (let after = 0; ;) {
    const page = await client.get<Page>('/api/v1/audit', { ...filterQuery(parsed), after, limit: 1000 });
    for (const entry of page.items) ctx.print(JSON.stringify(entry) + '\n');
    if (page.nextAfter === null) return;
    after = page.nextAfter;
  }
}

async function verifyAuditChain(args: string[], ctx: CommandContext): Promise<void> {
  const parsed = parseCommand(args, { usage: AUDIT_USAGE });
  const verdict = await apiClient(parsed, ctx).get<{ ok: boolean; entries: number; firstBroken: { seq: number; reason: string } | null }>('/api/v1/audit/verify');
  if (parsed.json) printJson(ctx, verdict);
  else if (verdict.ok) ctx.print(`audit chain intact: ${verdict.entries} entries verified\n`);
  if (!verdict.ok) {
    throw new CliError(`audit chain broken at entry ${verdict.firstBroken!.seq}: ${verdict.firstBroken!.reason}`);
  }
}
