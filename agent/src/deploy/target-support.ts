// What the service targets share: checking, when a target is built, that every path it will write is
// allowed and every command it names is in the agent's allowlist (so a bad target fails at once, not
// halfway through a deploy), and running either the named command or the service's own program.
import { readFile, realpath } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { PathNotAllowedError, isInside, resolveWritablePath } from './allowed-paths.js';
import { runProgram } from './commands.js';
import { TargetOptionsError, type DeployEnvironment } from './deploy-target.js';

/** Throws TargetOptionsError when a named command is not in the agent's allowlist. */
export function requireAllowedCommands(kind: string, env: DeployEnvironment, names: Record<string, string | undefined>): void {
  for (const [option, name] of Object.entries(names)) {
    if (name !== undefined && !env.commands.has(name)) {
      throw new TargetOptionsError(`${kind} target: option "${option}": "${name}" is not in the agent's command allowlist`);
    }
  }
}

/** Fails early on paths the deploy would refuse anyway (it checks them again when it writes). */
export async function requireWritablePaths(env: DeployEnvironment, paths: (string | undefined)[]): Promise<void> {
  for (const path of paths) if (path !== undefined) await resolveWritablePath(path, env.allowedRoots);
}

export interface ServiceProgram {
  file: string;
  args: string[];
  env?: Record<string, string>;
}

/** Runs the allowlisted command `name` when one is configured, else the service's own program. */
export async function runNamedOrProgram(env: DeployEnvironment, name: string | undefined, program: ServiceProgram, signal: AbortSignal): Promise<void> {
  const result = name !== undefined
    ? await env.commands.run(name, signal)
    : await runProgram(program.file, program.args, { signal, limits: env.limits, env: program.env });
  env.log.debug({ command: result.command, ms: result.ms }, 'service command succeeded');
}

/** Both paths the same file (a combined PEM) is a legitimate layout, so compare them normalised. */
export function samePath(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
}

/**
 * A service's working directory (nginx -p, httpd -d): relative paths in its config, the pid file included,
 * resolve against it, so a controller-chosen directory could point a reload signal at another process. It
 * must be the directory of the (allowed) main config or inside the allowed roots.
 */
export async function resolveServiceDirectory(path: string, configFile: string, roots: readonly string[]): Promise<string> {
  const real = await realpath(path).catch((cause: NodeJS.ErrnoException) => {
    throw new PathNotAllowedError(path, `it cannot be resolved (${cause.code ?? cause.message})`, { cause });
  });
  if (real === dirname(configFile) || roots.some((root) => root === real || isInside(root, real))) return real;
  throw new PathNotAllowedError(path, 'a service directory must be the main config\'s directory or inside allowedPaths');
}

/**
 * The pid in `pidFile` when it names a running process called one of `names`; null when there is no pid
 * file (the service's own command then says it is not running). Signalling whatever a pid file names, unchecked,
 * would let a wrong path kill an unrelated process.
 */
export async function verifiedPid(pidFile: string, names: readonly string[]): Promise<number | null> {
  const text = await readFile(pidFile, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  if (text === null) return null;
  const pid = Number(text.trim().split(/\s+/)[0]);
  if (!Number.isInteger(pid) || pid <= 1) throw new Error(`${pidFile} holds no process id`);
  const comm = (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim();
  // /proc/PID/comm holds at most 15 characters of the program's name.
  if (!names.some((name) => basename(name).slice(0, 15) === comm)) {
    throw new Error(`process ${pid} from ${pidFile} is not ${names.join(' or ')} (it is "${comm || 'not running'}")`);
  }
  return pid;
}
