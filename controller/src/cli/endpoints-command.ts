// certflowctl endpoints list [--agent ID]
import { UsageError } from './cli-errors.js';
import { apiClient, intOption, parseCommand, printJson, type CommandContext } from './command.js';
import { formatDate, formatTable, pageFooter, truncate } from './table.js';
import type { EndpointSummary } from '../api/schemas.js';

export const ENDPOINTS_USAGE = 'usage: certflowctl endpoints list [--agent ID] [--limit N] [--offset N] [--json]';

export async function endpointsCommand(args: string[], ctx: CommandContext): Promise<void> {
  const [sub, ...rest] = args;
  if (sub !== 'list') throw new UsageError(sub ? `unknown endpoints command "${sub}"` : 'missing endpoints command', ENDPOINTS_USAGE);
  const parsed = parseCommand(rest, { usage: ENDPOINTS_USAGE, strings: ['agent', 'limit', 'offset'] });
  const page = await apiClient(parsed, ctx).get<{ items: EndpointSummary[]; total: number; limit: number; offset: number }>('/api/v1/endpoints', {
    agent: parsed.strings.agent, limit: intOption(parsed, 'limit'), offset: intOption(parsed, 'offset'),
  });
  if (parsed.json) return printJson(ctx, page);
  if (page.items.length) {
    ctx.print(formatTable(page.items, [
      { header: 'HOST', value: (e) => truncate(e.agentName, 24) },
      { header: 'ENDPOINT', value: (e) => `${e.host}:${e.port}` },
      { header: 'SNI', value: (e) => e.serverName ?? '-' },
      { header: 'SERVED', value: (e) => (e.ok ? truncate(e.leafSubject ?? '-', 40) : `error: ${truncate(e.error ?? '', 40)}`) },
      { header: 'NOT AFTER', value: (e) => formatDate(e.leafNotAfter) },
      { header: 'CHAIN', value: (e) => (e.ok ? `${e.chainLength}${e.chainComplete === false ? ' incomplete' : ''}` : '-') },
      { header: 'NAME', value: (e) => (e.nameMismatch ? 'MISMATCH' : e.nameMismatch === false ? 'ok' : '-') },
    ]));
  }
  ctx.print(pageFooter(page, 'endpoints'));
}
