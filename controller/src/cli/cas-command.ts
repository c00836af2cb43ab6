// certflowctl cas list | revoke NAME SERIAL [--reason R] | add-acme | update | disable | enable (cas-admin-command.ts)
import { CAS_ADMIN_USAGE, casAddAcme, casSetDisabled, casUpdate } from './cas-admin-command.js';
import { UsageError } from './cli-errors.js';
import { apiClient, parseCommand, printJson, type CommandContext } from './command.js';
import { formatDate, formatTable } from './table.js';
import type { CaSummary, RevocationResponse } from '../api/ca-schemas.js';
import { REVOCATION_REASON_NAMES } from '../issuers/revocation-reasons.js';

export const CAS_USAGE = [
  'usage: certflowctl cas list [--json]',
  `       certflowctl cas revoke NAME SERIAL [--reason ${REVOCATION_REASON_NAMES.join('|')}] [--json]`,
  CAS_ADMIN_USAGE,
].join('\n');

function policyText(ca: CaSummary): string {
  const domains = ca.policy.allowedDomains.length ? ca.policy.allowedDomains.join(',') : 'any name';
  return `${domains}; ≤${ca.policy.maxValidityDays}d; ${ca.policy.keyTypes.join(',')}`;
}

export async function casCommand(args: string[], ctx: CommandContext): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === 'list') {
    const parsed = parseCommand(rest, { usage: CAS_USAGE });
    const { items } = await apiClient(parsed, ctx).get<{ items: CaSummary[] }>('/api/v1/cas');
    if (parsed.json) return printJson(ctx, { items });
    ctx.print(formatTable(items, [
      { header: 'NAME', value: (c) => c.name },
      { header: 'KIND', value: (c) => c.kind },
      { header: 'STATUS', value: (c) => (c.disabled ? 'disabled' : c.health.healthy ? 'healthy' : 'unhealthy') },
      { header: 'POLICY', value: policyText },
      { header: 'CREATED', value: (c) => formatDate(c.createdAt) },
      { header: 'DETAIL', value: (c) => c.health.detail },
    ]));
    return;
  }
  if (sub === 'revoke') {
    const parsed = parseCommand(rest, { usage: CAS_USAGE, strings: ['reason'], positionals: ['NAME', 'SERIAL'] });
    const [name, serial] = parsed.positionals;
    const reason = parsed.strings.reason;
    if (reason !== undefined && !(REVOCATION_REASON_NAMES as readonly string[]).includes(reason)) {
      throw new UsageError(`unknown reason "${reason}"`, CAS_USAGE);
    }
    const result = await apiClient(parsed, ctx).post<RevocationResponse>(`/api/v1/cas/${encodeURIComponent(name)}/revoke`, { serial, reason });
    if (parsed.json) return printJson(ctx, result);
    ctx.print(result.alreadyRevoked
      ? `certificate ${result.serial} of CA "${result.ca}" was already revoked on ${result.revokedAt} (${result.reason})\n`
      : `certificate ${result.serial} of CA "${result.ca}" revoked (${result.reason}); the CA's CRL lists it from now on\n`);
    return;
  }
  if (sub === 'add-acme') return casAddAcme(rest, ctx, CAS_USAGE);
  if (sub === 'update') return casUpdate(rest, ctx, CAS_USAGE);
  if (sub === 'disable' || sub === 'enable') return casSetDisabled(rest, ctx, CAS_USAGE, sub === 'disable');
  throw new UsageError(sub ? `unknown cas command "${sub}"` : 'missing cas command', CAS_USAGE);
}
