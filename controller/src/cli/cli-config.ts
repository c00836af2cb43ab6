// Where certflowctl finds its controller and token. Precedence: --url/--token flags, then the
// CERTFLOW_URL / CERTFLOW_TOKEN environment variables, then the file `certflowctl login` saved
// (CERTFLOWCTL_CONFIG, else ~/.config/certflow/certflowctl.json). This is the only CLI module that
// reads process.env.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { CliError } from './cli-errors.js';

export interface CliEnvironment {
  configPath: string;
  url?: string;
  token?: string;
}

export interface Connection {
  url: string;
  token: string;
}

export function readCliEnvironment(env: NodeJS.ProcessEnv = process.env): CliEnvironment {
  const home = env.HOME || homedir();
  return {
    configPath: env.CERTFLOWCTL_CONFIG || join(home, '.config', 'certflow', 'certflowctl.json'),
    url: env.CERTFLOW_URL || undefined,
    token: env.CERTFLOW_TOKEN || undefined,
  };
}

/** The saved login, or null when there is none yet. A file that exists but is broken is an error. */
export function loadSavedLogin(path: string): Partial<Connection> | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new CliError(`cannot read ${path}: ${(cause as Error).message}`, { cause });
  }
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not a JSON object');
    const { url, token } = value as Record<string, unknown>;
    return { url: typeof url === 'string' ? url : undefined, token: typeof token === 'string' ? token : undefined };
  } catch (cause) {
    throw new CliError(`${path} is not a valid certflowctl config (${(cause as Error).message}); run "certflowctl login" again`, { cause });
  }
}

/** Saves the login readable by its owner only: the file holds an API token. */
export function saveLogin(path: string, connection: Connection): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, JSON.stringify({ url: connection.url, token: connection.token }, null, 2) + '\n', { mode: 0o600 });
  // `mode` only applies when the file is created; an older file may have looser permissions.
  chmodSync(path, 0o600);
}

export function resolveConnection(flags: { url?: string; token?: string }, env: CliEnvironment): Connection {
  const needSaved = !(flags.url ?? env.url) || !(flags.token ?? env.token);
  const saved = needSaved ? loadSavedLogin(env.configPath) : null;
  const url = flags.url ?? env.url ?? saved?.url;
  const token = flags.token ?? env.token ?? saved?.token;
  if (!url || !token) {
    throw new CliError(`not logged in: run "certflowctl login --url URL --token TOKEN", or set CERTFLOW_URL and CERTFLOW_TOKEN (config file: ${env.configPath})`);
  }
  return { url, token };
}
