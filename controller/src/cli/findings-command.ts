// certflowctl findings [--kind KIND] [--expiring-within DAYS] [--agent ID]
import { apiClient, intOption, parseCommand, printJson, type CommandContext } from './command.js';
import { formatDate, formatTable, pageFooter, truncate } from './table.js';
import type { Finding } from '../api/schemas.js';

export const FINDINGS_USAGE =
  'usage: certflowctl findings [--kind KIND] [--expiring-within DAYS] [--agent ID] [--limit N] [--offset N] [--json]';

export async function findingsCommand(args: string[], ctx: CommandContext): Promise<void> {
  const parsed = parseCommand(args, { usage: FINDINGS_USAGE, strings: ['kind', 'expiring-within', 'agent', 'limit', 'offset'] });
  const page = await apiClient(parsed, ctx).get<{ items: Finding[]; total: number; limit: number; offset: number }>('/api/v1/findings', {
    kind: parsed.strings.kind,
    expiringWithinDays: intOption(parsed, 'expiring-within'),
    agent: parsed.strings.agent,
    limit: intOption(parsed, 'limit'),
    offset: intOption(parsed, 'offset'),
  });
  if (parsed.json) return printJson(ctx, page);
  // One line per place, so every host and path or endpoint is visible.
  const rows = page.items.flatMap((f) => f.places.map((place) => ({ finding: f, place })));
  if (rows.length) {
    ctx.print(formatTable(rows, [
      { header: 'KIND', value: (r) => r.finding.kind },
      { header: 'SUBJECT', value: (r) => truncate(r.finding.subject ?? '-', 40) },
      { header: 'NOT AFTER', value: (r) => formatDate(r.finding.notAfter) },
      { header: 'HOST', value: (r) => truncate(r.place.agentName, 24) },
      { header: 'WHERE', value: (r) => r.place.endpoint
        ? `${r.place.endpoint.host}:${r.place.endpoint.port}${r.place.endpoint.serverName ? ` (${r.place.endpoint.serverName})` : ''}`
        : r.place.path ?? '-' },
      { header: 'DETAIL', value: (r) => truncate(r.place.detail, 70) },
    ]));
  }
  ctx.print(pageFooter(page, 'findings'));
}
