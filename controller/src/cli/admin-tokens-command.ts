// certflowctl admin-tokens list | create --name N --role R [--expires-in-days D] | revoke ID
import { UsageError } from './cli-errors.js';
import { apiClient, intOption, parseCommand, printJson, type CommandContext } from './command.js';
import { formatDate, formatDateTime, formatTable } from './table.js';
import type { AdminTokenSummary } from '../api/schemas.js';

export const ADMIN_TOKENS_USAGE = [
  'usage: certflowctl admin-tokens list [--json]',
  '       certflowctl admin-tokens create --name NAME --role admin|operator|approver|auditor [--expires-in-days D] [--json]',
  '       certflowctl admin-tokens revoke ID [--json]',
].join('\n');

export async function adminTokensCommand(args: string[], ctx: CommandContext): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === 'list') {
    const parsed = parseCommand(rest, { usage: ADMIN_TOKENS_USAGE });
    const { items } = await apiClient(parsed, ctx).get<{ items: AdminTokenSummary[] }>('/api/v1/admin-tokens');
    if (parsed.json) return printJson(ctx, { items });
    ctx.print(formatTable(items, [
      { header: 'ID', value: (t) => t.id },
      { header: 'NAME', value: (t) => t.name },
      { header: 'ROLE', value: (t) => t.role },
      { header: 'CREATED', value: (t) => formatDate(t.createdAt) },
      { header: 'EXPIRES', value: (t) => formatDate(t.expiresAt) },
      { header: 'LAST USED', value: (t) => formatDateTime(t.lastUsedAt) },
      { header: 'STATUS', value: (t) => (t.revokedAt ? `revoked ${formatDate(t.revokedAt)}` : 'active') },
    ]));
    return;
  }
  if (sub === 'create') {
    const parsed = parseCommand(rest, { usage: ADMIN_TOKENS_USAGE, strings: ['name', 'role', 'expires-in-days'] });
    if (!parsed.strings.name || !parsed.strings.role) throw new UsageError('--name and --role are required', ADMIN_TOKENS_USAGE);
    const created = await apiClient(parsed, ctx).post<AdminTokenSummary & { token: string }>('/api/v1/admin-tokens', {
      name: parsed.strings.name, role: parsed.strings.role, expiresInDays: intOption(parsed, 'expires-in-days'),
    });
    if (parsed.json) return printJson(ctx, created);
    ctx.print(`admin token "${created.name}" (${created.role}) created; it is shown only now:\n  ${created.token}\n`);
    return;
  }
  if (sub === 'revoke') {
    const parsed = parseCommand(rest, { usage: ADMIN_TOKENS_USAGE, positionals: ['ID'] });
    const revoked = await apiClient(parsed, ctx).delete<AdminTokenSummary>(`/api/v1/admin-tokens/${encodeURIComponent(parsed.positionals[0])}`);
    if (parsed.json) return printJson(ctx, revoked);
    ctx.print(`admin token "${revoked.name}" revoked\n`);
    return;
  }
  throw new UsageError(sub ? `unknown admin-tokens command "${sub}"` : 'missing admin-tokens command', ADMIN_TOKENS_USAGE);
}
