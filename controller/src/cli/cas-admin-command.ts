// certflowctl cas add-acme | update | disable | enable: adding and changing CAs through POST/PUT
// /api/v1/cas. Secrets (EAB HMAC key, TSIG secret) are read from files, never taken on the command line,
// where other users of the machine could see them in the process list.
import { readFile } from 'node:fs/promises';
import type { AcmeChallengeBody, AcmeConfigPatchInput, CaSaved, CreateCaBody, UpdateCaBody } from '../api/ca-admin-schemas.js';
import type { CaSummary } from '../api/ca-schemas.js';
import { CliError, UsageError } from './cli-errors.js';
import { apiClient, intOption, parseCommand, printJson, type CommandContext, type ParsedCommand } from './command.js';

const CONFIG_OPTIONS = '[--contact mailto:ADDR]... [--eab-kid KID --eab-hmac-file FILE] [--trust-file PEM]\n' +
  '           [--dns-exec CMD | --dns-rfc2136 HOST:PORT --zone ZONE --tsig-key-name NAME --tsig-secret-file FILE [--tsig-algorithm ALG] [--ttl S]\n' +
  '            | [--http-port PORT] [--http-bind ADDR] [--http-webroot DIR]] [--propagation-delay-ms MS] [--max-concurrent-orders N] [--max-retry-after-seconds S] [--order-timeout-seconds S]\n' +
  '           [--allowed-domain D]... [--max-validity-days N] [--key-type T]...';

export const CAS_ADMIN_USAGE = [
  `       certflowctl cas add-acme NAME --directory URL ${CONFIG_OPTIONS} [--disabled] [--check] [--json]`,
  `       certflowctl cas update NAME [--directory URL] ${CONFIG_OPTIONS} [--any-domain] [--no-eab] [--no-trust] [--json]`,
  '       certflowctl cas disable|enable NAME [--json]',
].join('\n');

const CONFIG_STRINGS = [
  'directory', 'eab-kid', 'eab-hmac-file', 'trust-file', 'dns-exec', 'dns-rfc2136', 'zone', 'tsig-key-name', 'tsig-secret-file',
  'tsig-algorithm', 'ttl', 'http-port', 'http-bind', 'http-webroot', 'propagation-delay-ms', 'max-concurrent-orders', 'max-retry-after-seconds',
  'order-timeout-seconds', 'max-validity-days',
] as const;
const CONFIG_LISTS = ['contact', 'allowed-domain', 'key-type'] as const;

async function readSecretFile(option: string, path: string | undefined): Promise<string | undefined> {
  if (path === undefined) return undefined;
  const text = await readFile(path, 'utf8').catch((err: Error) => {
    throw new CliError(`--${option}: cannot read ${path}: ${err.message}`);
  });
  const value = text.trim();
  if (!value) throw new CliError(`--${option}: ${path} is empty`);
  return value;
}

/** The challenge the flags describe, or undefined when none of its flags is given. */
async function challengeFrom(parsed: ParsedCommand, usage: string): Promise<AcmeChallengeBody | undefined> {
  const s = parsed.strings;
  const propagationDelayMs = intOption(parsed, 'propagation-delay-ms');
  // http-01 is answered by the target's agent: on a port (bound to an address) or under a webroot.
  const http = s['http-port'] ?? s['http-bind'] ?? s['http-webroot'];
  const chosen = [s['dns-exec'] && '--dns-exec', s['dns-rfc2136'] && '--dns-rfc2136', http && '--http-*'].filter(Boolean);
  if (chosen.length > 1) throw new UsageError(`${chosen.join(' and ')} are different challenges: give one`, usage);
  if (s['dns-exec'] !== undefined) {
    const command = s['dns-exec'].trim().split(/\s+/).filter(Boolean);
    if (command.length === 0) throw new UsageError('--dns-exec needs a command', usage);
    return { type: 'dns-01', provider: { kind: 'exec', command }, ...(propagationDelayMs !== undefined ? { propagationDelayMs } : {}) };
  }
  if (s['dns-rfc2136'] !== undefined) {
    if (!s.zone || !s['tsig-key-name']) throw new UsageError('--dns-rfc2136 needs --zone and --tsig-key-name', usage);
    const tsigSecret = await readSecretFile('tsig-secret-file', s['tsig-secret-file']);
    const ttl = intOption(parsed, 'ttl');
    return {
      type: 'dns-01',
      provider: {
        kind: 'rfc2136', server: s['dns-rfc2136'], zone: s.zone, tsigKeyName: s['tsig-key-name'],
        ...(s['tsig-algorithm'] ? { tsigAlgorithm: s['tsig-algorithm'] as 'hmac-sha256' } : {}),
        ...(ttl !== undefined ? { ttl } : {}),
        ...(tsigSecret ? { tsigSecret } : {}),
      },
      ...(propagationDelayMs !== undefined ? { propagationDelayMs } : {}),
    };
  }
  if (http !== undefined) {
    const port = intOption(parsed, 'http-port');
    return {
      type: 'http-01', ...(port !== undefined ? { port } : {}),
      ...(s['http-bind'] !== undefined ? { bindAddress: s['http-bind'] } : {}), ...(s['http-webroot'] !== undefined ? { webroot: s['http-webroot'] } : {}),
    };
  }
  if (propagationDelayMs !== undefined) throw new UsageError('--propagation-delay-ms goes with --dns-exec or --dns-rfc2136', usage);
  return undefined;
}

/** The config settings the flags give (the same for add and update), secrets included. */
async function configFrom(parsed: ParsedCommand, usage: string): Promise<AcmeConfigPatchInput> {
  const s = parsed.strings;
  const hmacKey = await readSecretFile('eab-hmac-file', s['eab-hmac-file']);
  if (hmacKey && !s['eab-kid']) throw new UsageError('--eab-hmac-file goes with --eab-kid', usage);
  const trustPem = s['trust-file'] === undefined ? undefined : await readFile(s['trust-file'], 'utf8').catch((err: Error) => {
    throw new CliError(`--trust-file: cannot read ${s['trust-file']}: ${err.message}`);
  });
  const challenge = await challengeFrom(parsed, usage);
  const config: AcmeConfigPatchInput = {
    ...(s.directory !== undefined ? { directoryUrl: s.directory } : {}),
    ...(parsed.lists.contact.length ? { contact: parsed.lists.contact } : {}),
    ...(s['eab-kid'] !== undefined ? { eab: { keyId: s['eab-kid'], ...(hmacKey ? { hmacKey } : {}) } } : {}),
    ...(trustPem !== undefined ? { trustPem } : {}),
    ...(challenge ? { challenge } : {}),
  };
  const numbers = { maxConcurrentOrders: 'max-concurrent-orders', maxRetryAfterSeconds: 'max-retry-after-seconds', orderTimeoutSeconds: 'order-timeout-seconds' } as const;
  for (const [key, option] of Object.entries(numbers)) {
    const value = intOption(parsed, option);
    if (value !== undefined) config[key as keyof typeof numbers] = value;
  }
  return config;
}

function printSaved(ctx: CommandContext, parsed: ParsedCommand, ca: CaSaved): void {
  if (parsed.json) return printJson(ctx, ca);
  const verb = { created: 'added', updated: 'updated', unchanged: 'unchanged (nothing to change)' }[ca.result];
  const state = ca.disabled ? 'disabled' : 'enabled';
  const secrets = ca.secretsSet.length ? `; secrets stored: ${ca.secretsSet.join(', ')}` : '';
  ctx.print(`CA "${ca.name}" (${ca.kind}) ${verb}, ${state}${secrets}\n`);
  if (ca.health) ctx.print(`health: ${ca.health.healthy ? 'healthy' : 'unhealthy'}: ${ca.health.detail}\n`);
}

export async function casAddAcme(args: string[], ctx: CommandContext, usage: string): Promise<void> {
  const parsed = parseCommand(args, {
    usage, positionals: ['NAME'], strings: CONFIG_STRINGS, lists: CONFIG_LISTS, booleans: ['disabled', 'check'],
  });
  const [name] = parsed.positionals;
  if (!parsed.strings.directory) throw new UsageError('--directory URL is required', usage);
  const patch = await configFrom(parsed, usage);
  if (patch.eab && !patch.eab.hmacKey) throw new UsageError('--eab-kid needs --eab-hmac-file', usage);
  const maxValidityDays = intOption(parsed, 'max-validity-days');
  const body: CreateCaBody = {
    name, kind: 'acme', disabled: parsed.booleans.disabled,
    config: { ...patch, directoryUrl: parsed.strings.directory, eab: patch.eab ?? undefined, trustPem: patch.trustPem ?? undefined,
      challenge: patch.challenge ?? { type: 'http-01' } } as CreateCaBody['config'],
  };
  if (maxValidityDays !== undefined || parsed.lists['allowed-domain'].length || parsed.lists['key-type'].length) {
    body.policy = {
      allowedDomains: parsed.lists['allowed-domain'],
      maxValidityDays: maxValidityDays ?? 90,
      keyTypes: (parsed.lists['key-type'].length ? parsed.lists['key-type'] : ['ecdsa-p256', 'ecdsa-p384', 'rsa-2048', 'rsa-3072', 'rsa-4096']) as never,
    };
  }
  const query = parsed.booleans.check ? '?check=true' : '';
  printSaved(ctx, parsed, await apiClient(parsed, ctx).post<CaSaved>(`/api/v1/cas${query}`, body));
}

export async function casUpdate(args: string[], ctx: CommandContext, usage: string): Promise<void> {
  const parsed = parseCommand(args, {
    usage, positionals: ['NAME'], strings: CONFIG_STRINGS, lists: CONFIG_LISTS, booleans: ['any-domain', 'no-eab', 'no-trust'],
  });
  const [name] = parsed.positionals;
  const config = await configFrom(parsed, usage);
  if (parsed.booleans['no-eab']) {
    if (config.eab) throw new UsageError('--no-eab and --eab-kid contradict each other', usage);
    config.eab = null;
  }
  if (parsed.booleans['no-trust']) {
    if (config.trustPem) throw new UsageError('--no-trust and --trust-file contradict each other', usage);
    config.trustPem = null;
  }
  const body: UpdateCaBody = Object.keys(config).length ? { config } : {};
  const client = apiClient(parsed, ctx);
  const maxValidityDays = intOption(parsed, 'max-validity-days');
  const domains = parsed.lists['allowed-domain'];
  if (parsed.booleans['any-domain'] && domains.length) throw new UsageError('--any-domain and --allowed-domain contradict each other', usage);
  if (maxValidityDays !== undefined || domains.length || parsed.booleans['any-domain'] || parsed.lists['key-type'].length) {
    // The API takes the whole policy: what is not given stays as it is.
    const { items } = await client.get<{ items: CaSummary[] }>('/api/v1/cas');
    const current = items.find((ca) => ca.name === name);
    if (!current) throw new CliError(`no certificate authority named "${name}"`);
    body.policy = {
      allowedDomains: parsed.booleans['any-domain'] ? [] : domains.length ? domains : current.policy.allowedDomains,
      maxValidityDays: maxValidityDays ?? current.policy.maxValidityDays,
      keyTypes: (parsed.lists['key-type'].length ? parsed.lists['key-type'] : current.policy.keyTypes) as never,
    };
  }
  if (Object.keys(body).length === 0) throw new UsageError('nothing to change', usage);
  printSaved(ctx, parsed, await client.put<CaSaved>(`/api/v1/cas/${encodeURIComponent(name)}`, body));
}

export async function casSetDisabled(args: string[], ctx: CommandContext, usage: string, disabled: boolean): Promise<void> {
  const parsed = parseCommand(args, { usage, positionals: ['NAME'] });
  const [name] = parsed.positionals;
  printSaved(ctx, parsed, await apiClient(parsed, ctx).put<CaSaved>(`/api/v1/cas/${encodeURIComponent(name)}`, { disabled }));
}
