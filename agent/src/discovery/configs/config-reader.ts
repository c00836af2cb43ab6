// Reads config files for the parsers, within bounds: include depth, include cycles, the number of files and
// their size. A config tree is operator input that may be broken or hostile (a symlink loop, `include *`
// at the root); whatever the bounds stop becomes a problem naming the include that crossed them.
import { constants as fsConstants } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import { describeFsError } from './fs-errors.js';
import { problemAt, type ConfigProblem } from './service-binding.js';

export interface ConfigReaderLimits {
  /** How deep includes may nest below the main config. */
  maxDepth: number;
  /** Files read in one parse, counting a file included twice twice (that is work done twice). */
  maxFiles: number;
  maxFileBytes: number;
}

export const DEFAULT_CONFIG_LIMITS: ConfigReaderLimits = Object.freeze({
  maxDepth: 16,
  maxFiles: 10_000,
  // Real configs are kilobytes; mime.types is the largest file a stock install includes.
  maxFileBytes: 4 * 1024 * 1024,
});

/** Where an include was written: its problems are reported there, since that is what the operator edits. */
export interface IncludeOrigin {
  path: string;
  line: number;
}

export interface ConfigReaderOptions {
  signal?: AbortSignal;
  limits?: Partial<ConfigReaderLimits>;
}

export class ConfigReader {
  readonly problems: ConfigProblem[] = [];
  readonly signal: AbortSignal | undefined;
  private readonly limits: ConfigReaderLimits;
  private readonly reported = new Set<string>();
  private filesRead = 0;
  private fileLimitReported = false;
  // Real paths of the files being read, outermost first: the include chain, for cycle detection.
  private readonly stack: string[] = [];

  constructor(options: ConfigReaderOptions = {}) {
    this.signal = options.signal;
    this.limits = { ...DEFAULT_CONFIG_LIMITS, ...options.limits };
  }

  /** Records a problem once: a setting inherited by many servers is reported where it is written, not per server. */
  problem(path: string, line: number, message: string): void {
    this.report(problemAt(path, line, message));
  }

  report(problem: ConfigProblem): void {
    const key = `${problem.path}\0${problem.message}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.problems.push(problem);
  }

  /**
   * Reads `path` and hands its text to `use` while the file is on the include chain, so includes made
   * inside `use` are checked against it. Returns false, with a problem recorded, when the file is not read.
   */
  async withFile(path: string, origin: IncludeOrigin | null, use: (text: string) => Promise<void>): Promise<boolean> {
    this.signal?.throwIfAborted();
    const refuse = (reason: string): false => {
      if (origin === null) this.report({ path, message: reason });
      else this.problem(origin.path, origin.line, `include "${path}": ${reason}`);
      return false;
    };
    if (this.stack.length > this.limits.maxDepth) {
      return refuse(`includes nested deeper than ${this.limits.maxDepth} levels; not read`);
    }
    if (this.filesRead >= this.limits.maxFiles) {
      if (this.fileLimitReported) return false;
      this.fileLimitReported = true;
      return refuse(`more than ${this.limits.maxFiles} config files; this and later includes are not read`);
    }
    let real: string;
    let text: string;
    try {
      real = await realpath(path);
      if (this.stack.includes(real)) {
        return refuse(`include cycle: ${[...this.stack.slice(this.stack.indexOf(real)), real].join(' -> ')}`);
      }
      const read = await this.readSmallFile(path);
      if (read === 'too-large') return refuse(`larger than ${this.limits.maxFileBytes} bytes; not read`);
      if (read === 'not-a-file') return refuse('not a regular file');
      if (read === 'directory') return refuse('is a directory');
      text = read;
    } catch (err) {
      if (this.signal?.aborted) throw err;
      return refuse(describeFsError(err));
    }
    this.filesRead++;
    this.stack.push(real);
    try {
      await use(text);
    } finally {
      this.stack.pop();
    }
    return true;
  }

  private async readSmallFile(path: string): Promise<string | 'too-large' | 'not-a-file' | 'directory'> {
    // O_NONBLOCK: a FIFO named by a glob must not block the scan waiting for a writer.
    const handle = await open(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
    try {
      const stats = await handle.stat();
      if (stats.isDirectory()) return 'directory';
      if (!stats.isFile()) return 'not-a-file';
      if (stats.size > this.limits.maxFileBytes) return 'too-large';
      const bytes = await handle.readFile({ signal: this.signal });
      return bytes.length > this.limits.maxFileBytes ? 'too-large' : bytes.toString('utf8');
    } finally {
      await handle.close();
    }
  }
}
