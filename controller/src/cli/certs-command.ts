// certflowctl certs list [filters] | show ID
import { UsageError } from './cli-errors.js';
import { apiClient, intOption, parseCommand, printJson, type CommandContext } from './command.js';
import { daysLeftText, formatDate, formatDateTime, formatFields, formatTable, pageFooter, truncate } from './table.js';
import type { CertificateDetail, CertificatePage, CertificateSummary } from '../api/schemas.js';

export const CERTS_USAGE = [
  'usage: certflowctl certs list [--expiring-within DAYS] [--host H] [--search TEXT] [--include-removed]',
  '                              [--limit N] [--offset N] [--json]',
  '       certflowctl certs show ID [--json]',
].join('\n');

export async function certsCommand(args: string[], ctx: CommandContext): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === 'list') return listCertificates(rest, ctx);
  if (sub === 'show') return showCertificate(rest, ctx);
  throw new UsageError(sub ? `unknown certs command "${sub}"` : 'missing certs command', CERTS_USAGE);
}

function keyText(cert: CertificateSummary): string {
  const size = cert.curve ?? (cert.keySize ? String(cert.keySize) : '');
  return [cert.keyAlgorithm, size].filter(Boolean).join(' ');
}

async function listCertificates(args: string[], ctx: CommandContext): Promise<void> {
  const parsed = parseCommand(args, {
    usage: CERTS_USAGE,
    strings: ['expiring-within', 'host', 'search', 'limit', 'offset'],
    booleans: ['include-removed'],
  });
  const page = await apiClient(parsed, ctx).get<CertificatePage>('/api/v1/certificates', {
    expiringWithinDays: intOption(parsed, 'expiring-within'),
    host: parsed.strings.host,
    q: parsed.strings.search,
    includeRemoved: parsed.booleans['include-removed'] || undefined,
    limit: intOption(parsed, 'limit'),
    offset: intOption(parsed, 'offset'),
  });
  if (parsed.json) return printJson(ctx, page);
  if (page.items.length > 0) {
    ctx.print(formatTable(page.items, [
      { header: 'ID', value: (c) => c.id },
      { header: 'SUBJECT', value: (c) => truncate(c.subject, 60) },
      { header: 'ISSUER', value: (c) => truncate(c.issuer, 40) },
      { header: 'NOT AFTER', value: (c) => formatDate(c.notAfter) },
      { header: 'DAYS LEFT', value: (c) => String(c.daysLeft), align: 'right' },
      { header: 'LOCATIONS', value: (c) => String(c.locationCount), align: 'right' },
    ]));
  }
  ctx.print(pageFooter(page, 'certificates'));
}

async function showCertificate(args: string[], ctx: CommandContext): Promise<void> {
  const parsed = parseCommand(args, { usage: CERTS_USAGE, positionals: ['ID'] });
  const id = parsed.positionals[0];
  const cert = await apiClient(parsed, ctx).get<CertificateDetail>(`/api/v1/certificates/${encodeURIComponent(id)}`);
  if (parsed.json) return printJson(ctx, cert);
  ctx.print(formatFields([
    ['ID', cert.id],
    ['Subject', cert.subject],
    ['Issuer', cert.issuer],
    ['Serial', cert.serialNumber],
    ['SANs', cert.sans.join(', ') || '-'],
    ['Valid', `${formatDate(cert.notBefore)} to ${formatDate(cert.notAfter)} (${daysLeftText(cert.daysLeft)})`],
    ['Key', keyText(cert)],
    ['Signature', cert.signatureAlgorithm],
    ['Fingerprint', `sha256:${cert.fingerprintSha256}`],
    ['Self-signed', cert.selfSigned ? 'yes' : 'no'],
    ['CA', cert.isCa ? 'yes' : 'no'],
    ['First seen', formatDateTime(cert.firstSeenAt)],
    ['Last seen', formatDateTime(cert.lastSeenAt)],
  ]));
  if (cert.locations.length === 0) {
    ctx.print('\nNo locations.\n');
  } else {
    ctx.print(`\nLocations (${cert.locationCount} current, ${cert.locations.length} in all):\n`);
    ctx.print(formatTable(cert.locations, [
      { header: 'AGENT', value: (l) => l.agentName },
      { header: 'PATH', value: (l) => l.path },
      { header: 'POS', value: (l) => String(l.position), align: 'right' },
      { header: 'FORMAT', value: (l) => l.format },
      { header: 'KEY', value: (l) => l.keyPath ?? '-' },
      { header: 'STATUS', value: (l) => (l.removedAt ? `removed ${formatDate(l.removedAt)}` : 'current') },
      { header: 'LAST SEEN', value: (l) => formatDateTime(l.lastSeenAt) },
    ]));
  }
  if (cert.usedBy.length) {
    ctx.print(`\nUsed by (${cert.usedBy.length}):\n`);
    ctx.print(formatTable(cert.usedBy, [
      { header: 'AGENT', value: (u) => u.agentName },
      { header: 'SERVICE', value: (u) => u.service },
      { header: 'CONFIG', value: (u) => `${u.configPath}:${u.line}` },
      { header: 'NAMES', value: (u) => u.serverNames.join(' ') || '-' },
      { header: 'LISTEN', value: (u) => u.listen.map((l) => `${l.address ?? '*'}:${l.port}`).join(' ') || '-' },
    ]));
  }
  if (cert.servedAt.length) {
    ctx.print(`\nServed at (${cert.servedAt.length}):\n`);
    ctx.print(formatTable(cert.servedAt, [
      { header: 'AGENT', value: (e) => e.agentName },
      { header: 'ENDPOINT', value: (e) => `${e.host}:${e.port}` },
      { header: 'SNI', value: (e) => e.serverName ?? '-' },
      { header: 'LAST SEEN', value: (e) => formatDateTime(e.lastSeenAt) },
    ]));
  }
  ctx.print(`\n${cert.pem}`);
}
