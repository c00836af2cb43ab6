// The only way a deploy runs a program. Reload and test commands are named, and the names resolve only
// through the agent's own allowlist ({ name: argv }), so the controller can choose *which* of the operator's
// commands runs, never *what* runs. Programs start without a shell (nothing in an argument is ever
// interpreted), with a minimal environment (the agent's own may hold its enrolment token), a timeout, and
// their output kept to a bounded tail for the result and the logs.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';

export type CommandAllowlist = Readonly<Record<string, readonly string[]>>;

export interface CommandLimits {
  timeoutMs: number;
  /** Only the last this many bytes of stdout and stderr (interleaved) are kept: errors come at the end. */
  maxOutputBytes: number;
}

export const DEFAULT_COMMAND_LIMITS: CommandLimits = Object.freeze({ timeoutMs: 30_000, maxOutputBytes: 16 * 1024 });

/** The environment every program gets, plus what a caller adds explicitly. */
const BASE_ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' };

export interface CommandResult {
  /** argv joined with spaces, for messages only. */
  command: string;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  output: string;
  truncated: boolean;
  ms: number;
  /** Only with collectStdoutBytes. */
  stdout?: Buffer;
}

export class CommandFailedError extends Error {
  override name = 'CommandFailedError';
  constructor(readonly result: CommandResult, reason: string, options?: ErrorOptions) {
    const tail = result.output.trim() ? `: ${result.output.trim().split('\n').slice(-5).join(' | ')}` : '';
    super(`${result.command} ${reason}${tail}`, options);
  }
}

export class CommandNotAllowedError extends Error {
  override name = 'CommandNotAllowedError';
  constructor(readonly commandName: string, allowed: readonly string[]) {
    super(`command "${commandName}" is not in the agent's command allowlist (${allowed.length ? allowed.join(', ') : 'empty'})`);
  }
}

export interface RunProgramOptions {
  signal: AbortSignal;
  limits?: CommandLimits;
  env?: Readonly<Record<string, string>>;
  /** Written to the program's stdin (e.g. PEM for openssl), which is otherwise closed. */
  stdin?: Buffer;
  /**
   * A secret handed over on file descriptor 3 (openssl's `fd:3`): never in argv, which every local user can
   * read in /proc, nor in the environment.
   */
  secretOnFd3?: string;
  /** Collect stdout as bytes, up to this many (more fails the run), instead of into `output`. */
  collectStdoutBytes?: number;
}

/** Runs `file args...` to completion; resolves with its result when it exits 0, else CommandFailedError. */
export function runProgram(file: string, args: readonly string[], options: RunProgramOptions): Promise<CommandResult> {
  const limits = options.limits ?? DEFAULT_COMMAND_LIMITS;
  const command = [file, ...args].join(' ');
  const started = performance.now();
  return new Promise((resolve, reject) => {
    let kept = Buffer.alloc(0);
    let truncated = false;
    let timedOut = false;
    const stdoutChunks: Buffer[] = [];
    let stdoutBytes = 0;
    const keep = (data: Buffer) => {
      kept = Buffer.concat([kept, data]);
      if (kept.length > limits.maxOutputBytes) {
        kept = kept.subarray(kept.length - limits.maxOutputBytes);
        truncated = true;
      }
    };
    const result = (exitCode: number | null, signal: NodeJS.Signals | null): CommandResult => ({
      command, exitCode, signal, timedOut, output: kept.toString('utf8'), truncated, ms: Math.round(performance.now() - started),
      ...(options.collectStdoutBytes === undefined ? {} : { stdout: Buffer.concat(stdoutChunks) }),
    });
    if (options.signal.aborted) {
      reject(new CommandFailedError(result(null, null), 'was not started: the operation was aborted', { cause: options.signal.reason }));
      return;
    }
    const stdio: StdioOptions = [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe', ...(options.secretOnFd3 === undefined ? [] : ['pipe' as const])];
    const child: ChildProcess = spawn(file, [...args], { shell: false, env: { ...BASE_ENV, ...options.env }, stdio });
    const kill = () => child.kill('SIGKILL');
    const limit = options.collectStdoutBytes;
    child.stdout!.on('data', limit === undefined ? keep : (data: Buffer) => {
      stdoutBytes += data.length;
      if (stdoutBytes > limit) kill();
      else stdoutChunks.push(data);
    });
    child.stderr!.on('data', keep);
    // A program that exits without reading its input must not crash the agent with EPIPE.
    if (options.stdin) child.stdin!.on('error', () => undefined).end(options.stdin);
    if (options.secretOnFd3 !== undefined) {
      const fd3 = child.stdio[3] as NodeJS.WritableStream;
      fd3.on('error', () => undefined);
      fd3.end(`${options.secretOnFd3}\n`);
    }
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, limits.timeoutMs);
    options.signal.addEventListener('abort', kill, { once: true });
    const settle = () => {
      clearTimeout(timer);
      options.signal.removeEventListener('abort', kill);
    };
    child.once('error', (err) => {
      settle();
      reject(new CommandFailedError(result(null, null), `could not be started (${(err as NodeJS.ErrnoException).code ?? err.message})`, { cause: err }));
    });
    child.once('close', (exitCode, signal) => {
      settle();
      const done = result(exitCode, signal);
      if (limit !== undefined && stdoutBytes > limit) reject(new CommandFailedError(done, `wrote more than ${limit} bytes to stdout`));
      else if (exitCode === 0) resolve(done);
      else if (timedOut) reject(new CommandFailedError(done, `timed out after ${limits.timeoutMs} ms`));
      else if (options.signal.aborted) reject(new CommandFailedError(done, 'was aborted', { cause: options.signal.reason }));
      else reject(new CommandFailedError(done, signal ? `was killed by ${signal}` : `exited with status ${exitCode}`));
    });
  });
}

export interface CommandRunner {
  readonly names: readonly string[];
  has(name: string): boolean;
  /** Runs the allowlisted command `name`; CommandNotAllowedError when the allowlist has no such name. */
  run(name: string, signal: AbortSignal): Promise<CommandResult>;
}

export function createCommandRunner(allowlist: CommandAllowlist, limits: CommandLimits = DEFAULT_COMMAND_LIMITS): CommandRunner {
  const commands = new Map<string, readonly string[]>();
  for (const [name, argv] of Object.entries(allowlist)) {
    if (argv.length === 0 || argv[0] === '') throw new Error(`command allowlist entry "${name}" has an empty argv`);
    commands.set(name, Object.freeze([...argv]));
  }
  const names = Object.freeze([...commands.keys()]);
  return {
    names,
    has: (name) => commands.has(name),
    run(name, signal) {
      const argv = commands.get(name);
      if (!argv) return Promise.reject(new CommandNotAllowedError(name, names));
      return runProgram(argv[0], argv.slice(1), { signal, limits });
    },
  };
}
