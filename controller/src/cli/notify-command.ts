// certflowctl notify: notification channels, test sends and the record of deliveries.
import { readFileSync } from 'node:fs';
import { CliError, HelpRequested, UsageError } from './cli-errors.js';
import { apiClient, intOption, parseCommand, printJson, type CommandContext, type ParsedCommand } from './command.js';
import { formatDateTime, formatFields, formatTable, pageFooter, truncate } from './table.js';
import type { ChannelSummary, DeliveryPage, DeliverySummary } from '../api/notification-schemas.js';

export const NOTIFY_USAGE = [
  'usage: certflowctl notify channels list [--json]',
  '       certflowctl notify channels show NAME [--json]',
  '       certflowctl notify channels create NAME --kind email|snmp|webhook|syslog --config JSON|@FILE [--secrets JSON|@FILE]',
  '                 [--default-events KIND,...] [--disabled] [--max-attempts N] [--retry-backoff-seconds N] [--timeout-seconds N] [--json]',
  '       certflowctl notify channels update NAME [--config JSON|@FILE] [--secrets JSON|@FILE] [--default-events KIND,...]',
  '                 [--enable|--disable] [--max-attempts N] [--retry-backoff-seconds N] [--timeout-seconds N] [--json]',
  '       certflowctl notify channels delete NAME [--json]',
  '       certflowctl notify test CHANNEL [--message TEXT] [--json]',
  '       certflowctl notify deliveries [--state pending|sending|sent|failed] [--channel NAME] [--event ID] [--kind KIND]',
  '                 [--limit N] [--offset N] [--json]',
].join('\n');

const SETTINGS = ['default-events', 'max-attempts', 'retry-backoff-seconds', 'timeout-seconds'] as const;

/** JSON given inline or as @FILE (better for secrets: they stay out of the shell history and `ps`). */
function jsonOption(parsed: ParsedCommand, name: string): Record<string, unknown> | undefined {
  const raw = parsed.strings[name];
  if (raw === undefined) return undefined;
  let text = raw;
  if (raw.startsWith('@')) {
    try {
      text = readFileSync(raw.slice(1), 'utf8');
    } catch (cause) {
      throw new CliError(`--${name}: cannot read ${raw.slice(1)}: ${(cause as Error).message}`);
    }
  }
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('expected a JSON object');
    return value as Record<string, unknown>;
  } catch (cause) {
    throw new UsageError(`--${name}: not a JSON object: ${(cause as Error).message}`, NOTIFY_USAGE);
  }
}

function settings(parsed: ParsedCommand): Record<string, unknown> {
  const events = parsed.strings['default-events'];
  return {
    defaultEvents: events === undefined ? undefined : events.split(',').map((e) => e.trim()).filter(Boolean),
    maxAttempts: intOption(parsed, 'max-attempts'),
    retryBackoffSeconds: intOption(parsed, 'retry-backoff-seconds'),
    timeoutSeconds: intOption(parsed, 'timeout-seconds'),
  };
}

function channelFields(c: ChannelSummary): string {
  return formatFields([
    ['Name', c.name], ['Kind', c.kind], ['Enabled', c.enabled ? 'yes' : 'no'],
    ['Default events', c.defaultEvents.join(', ') || '-'],
    ['Secrets set', c.secretNames.join(', ') || '-'],
    ['Retries', `${c.maxAttempts} attempts, backoff from ${c.retryBackoffSeconds}s, timeout ${c.timeoutSeconds}s`],
    ['Updated', formatDateTime(c.updatedAt)],
  ]) + `Config:\n${JSON.stringify(c.config, null, 2).replace(/^/gm, '  ')}\n`;
}

function deliveryLine(d: DeliverySummary): string {
  return `${d.state}${d.lastError ? `: ${d.lastError}` : ''}`;
}

async function channels(args: string[], ctx: CommandContext): Promise<void> {
  const [sub, ...rest] = args;
  const path = (name: string) => `/api/v1/notification-channels/${encodeURIComponent(name)}`;
  if (sub === 'list') {
    const parsed = parseCommand(rest, { usage: NOTIFY_USAGE });
    const { items } = await apiClient(parsed, ctx).get<{ items: ChannelSummary[] }>('/api/v1/notification-channels');
    if (parsed.json) return printJson(ctx, { items });
    if (!items.length) return ctx.print('No notification channels.\n');
    ctx.print(formatTable(items, [
      { header: 'NAME', value: (c) => c.name },
      { header: 'KIND', value: (c) => c.kind },
      { header: 'ENABLED', value: (c) => (c.enabled ? 'yes' : 'no') },
      { header: 'DEFAULT EVENTS', value: (c) => truncate(c.defaultEvents.join(',') || '-', 40) },
      { header: 'SECRETS', value: (c) => c.secretNames.join(',') || '-' },
    ]));
    return;
  }
  if (sub === 'show') {
    const parsed = parseCommand(rest, { usage: NOTIFY_USAGE, positionals: ['NAME'] });
    const channel = await apiClient(parsed, ctx).get<ChannelSummary>(path(parsed.positionals[0]));
    return parsed.json ? printJson(ctx, channel) : ctx.print(channelFields(channel));
  }
  if (sub === 'create') {
    const parsed = parseCommand(rest, { usage: NOTIFY_USAGE, positionals: ['NAME'], strings: ['kind', 'config', 'secrets', ...SETTINGS], booleans: ['disabled'] });
    if (!parsed.strings.kind || !parsed.strings.config) throw new UsageError('--kind and --config are required', NOTIFY_USAGE);
    const created = await apiClient(parsed, ctx).post<ChannelSummary>('/api/v1/notification-channels', {
      name: parsed.positionals[0], kind: parsed.strings.kind, config: jsonOption(parsed, 'config'), secrets: jsonOption(parsed, 'secrets'),
      ...settings(parsed), enabled: parsed.booleans.disabled ? false : undefined,
    });
    return parsed.json ? printJson(ctx, created) : ctx.print(`channel "${created.name}" (${created.kind}) created\n`);
  }
  if (sub === 'update') {
    const parsed = parseCommand(rest, { usage: NOTIFY_USAGE, positionals: ['NAME'], strings: ['config', 'secrets', ...SETTINGS], booleans: ['enable', 'disable'] });
    if (parsed.booleans.enable && parsed.booleans.disable) throw new UsageError('--enable or --disable, not both', NOTIFY_USAGE);
    const updated = await apiClient(parsed, ctx).patch<ChannelSummary>(path(parsed.positionals[0]), {
      config: jsonOption(parsed, 'config'), secrets: jsonOption(parsed, 'secrets'), ...settings(parsed),
      enabled: parsed.booleans.enable ? true : parsed.booleans.disable ? false : undefined,
    });
    return parsed.json ? printJson(ctx, updated) : ctx.print(`channel "${updated.name}" updated\n`);
  }
  if (sub === 'delete') {
    const parsed = parseCommand(rest, { usage: NOTIFY_USAGE, positionals: ['NAME'] });
    const deleted = await apiClient(parsed, ctx).delete<ChannelSummary>(path(parsed.positionals[0]));
    return parsed.json ? printJson(ctx, deleted) : ctx.print(`channel "${deleted.name}" deleted (its deliveries stay on record)\n`);
  }
  throw new UsageError(sub ? `unknown notify channels command "${sub}"` : 'missing notify channels command', NOTIFY_USAGE);
}

export async function notifyCommand(args: string[], ctx: CommandContext): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === '--help' || sub === '-h') throw new HelpRequested(NOTIFY_USAGE);
  if (sub === 'channels') return channels(rest, ctx);
  if (sub === 'test') {
    const parsed = parseCommand(rest, { usage: NOTIFY_USAGE, positionals: ['CHANNEL'], strings: ['message'] });
    const name = parsed.positionals[0];
    const delivery = await apiClient(parsed, ctx).post<DeliverySummary>(`/api/v1/notification-channels/${encodeURIComponent(name)}/test`,
      parsed.strings.message ? { message: parsed.strings.message } : {});
    if (parsed.json) printJson(ctx, delivery);
    else if (delivery.state === 'sent') ctx.print(`test notification sent to "${name}"${delivery.providerMessageId ? ` (${delivery.providerMessageId})` : ''}\n`);
    if (delivery.state !== 'sent') throw new CliError(`test notification to "${name}" failed: ${delivery.lastError ?? delivery.state}`);
    return;
  }
  if (sub === 'deliveries') {
    const parsed = parseCommand(rest, { usage: NOTIFY_USAGE, strings: ['state', 'channel', 'event', 'kind', 'limit', 'offset'] });
    const page = await apiClient(parsed, ctx).get<DeliveryPage>('/api/v1/notification-deliveries', {
      state: parsed.strings.state, channel: parsed.strings.channel, eventId: parsed.strings.event, eventKind: parsed.strings.kind,
      limit: intOption(parsed, 'limit'), offset: intOption(parsed, 'offset'),
    });
    if (parsed.json) return printJson(ctx, page);
    if (page.items.length) {
      ctx.print(formatTable(page.items, [
        { header: 'CREATED', value: (d) => formatDateTime(d.createdAt) },
        { header: 'CHANNEL', value: (d) => d.channel },
        { header: 'EVENT', value: (d) => d.eventKind },
        { header: 'ATTEMPTS', value: (d) => String(d.attempts), align: 'right' },
        { header: 'STATE', value: (d) => truncate(deliveryLine(d), 90) },
        { header: 'SUMMARY', value: (d) => truncate(d.summary, 60) },
      ]));
    }
    ctx.print(pageFooter(page, 'deliveries'));
    return;
  }
  throw new UsageError(sub ? `unknown notify command "${sub}"` : 'missing notify command', NOTIFY_USAGE);
}
