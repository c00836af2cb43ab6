// What the service targets share: checking, when a target is built, that every path it will write is
// allowed and every command it names is in the agent's allowlist (so a bad target fails at once, not
// halfway through a deploy), and running either the named command or the service's own program.
import { resolveWritablePath } from './allowed-paths.js';
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
