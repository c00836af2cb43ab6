// What every certflowctl command shares: its context (where output goes, the environment, the process's
// abort signal), argument parsing with usage errors, and the API client built from flags, env and the
// saved login.
import { parseArgs } from 'node:util';
import { resolveConnection, type CliEnvironment } from './cli-config.js';
import { HelpRequested, UsageError } from './cli-errors.js';
import { ApiClient } from './http-client.js';

export interface CommandContext {
  env: CliEnvironment;
  /** Writes to standard output. */
  print(text: string): void;
  signal: AbortSignal;
}

export interface CommandSpec {
  usage: string;
  /** Options taking a value, besides --url and --token. */
  strings?: readonly string[];
  /** Flags, besides --json and --help. */
  booleans?: readonly string[];
  /** Options that may be given more than once (--dns a --dns b), each collected into a list. */
  lists?: readonly string[];
  /** Names of the required positional arguments, in order. */
  positionals?: readonly string[];
}

export interface ParsedCommand {
  spec: CommandSpec;
  strings: Record<string, string | undefined>;
  booleans: Record<string, boolean>;
  lists: Record<string, string[]>;
  positionals: string[];
  json: boolean;
  url?: string;
  token?: string;
}

export function parseCommand(args: string[], spec: CommandSpec): ParsedCommand {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {
    url: { type: 'string' }, token: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
  };
  for (const name of spec.strings ?? []) options[name] = { type: 'string' };
  for (const name of spec.booleans ?? []) options[name] = { type: 'boolean' };
  for (const name of spec.lists ?? []) options[name] = { type: 'string', multiple: true };
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (cause) {
    // parseArgs says well what was wrong ("Unknown option '--foo'"); keep its words, minus its advice on
    // positionals that start with '-', which none of our commands take.
    throw new UsageError((cause as Error).message.replace(/\. To specify a positional.*$/s, ''), spec.usage);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values.help) throw new HelpRequested(spec.usage);
  const wanted = spec.positionals ?? [];
  if (parsed.positionals.length < wanted.length) throw new UsageError(`missing ${wanted[parsed.positionals.length]}`, spec.usage);
  if (parsed.positionals.length > wanted.length) {
    throw new UsageError(`unexpected argument "${parsed.positionals[wanted.length]}"`, spec.usage);
  }
  const strings: Record<string, string | undefined> = {};
  for (const name of spec.strings ?? []) strings[name] = values[name] as string | undefined;
  const booleans: Record<string, boolean> = {};
  for (const name of spec.booleans ?? []) booleans[name] = values[name] === true;
  const lists: Record<string, string[]> = {};
  for (const name of spec.lists ?? []) lists[name] = (values as Record<string, unknown>)[name] as string[] | undefined ?? [];
  return {
    spec, strings, booleans, lists, positionals: parsed.positionals, json: values.json === true,
    url: values.url as string | undefined, token: values.token as string | undefined,
  };
}

/** A whole number given as an option, or undefined when the option is absent. */
export function intOption(parsed: ParsedCommand, name: string): number | undefined {
  const raw = parsed.strings[name];
  if (raw === undefined) return undefined;
  if (!/^\d{1,9}$/.test(raw)) throw new UsageError(`--${name} expects a whole number, got "${raw}"`, parsed.spec.usage);
  return Number(raw);
}

export function apiClient(parsed: ParsedCommand, ctx: CommandContext): ApiClient {
  const connection = resolveConnection({ url: parsed.url, token: parsed.token }, ctx.env);
  return new ApiClient(connection.url, connection.token, ctx.signal);
}

export function printJson(ctx: CommandContext, value: unknown): void {
  ctx.print(JSON.stringify(value, null, 2) + '\n');
}
