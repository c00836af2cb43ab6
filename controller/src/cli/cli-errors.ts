// certflowctl's failures, each with the exit code it ends the process with: 2 for a command line that
// cannot be run as written, 1 for everything that went wrong while running it.

/** The command line is wrong; `usage` is the synopsis of the command that was meant. */
export class UsageError extends Error {
  override name = 'UsageError';
  readonly exitCode = 2;
  constructor(message: string, readonly usage: string) {
    super(message);
  }
}

/** A failure to report as `certflowctl: <message>`. */
export class CliError extends Error {
  override name = 'CliError';
  readonly exitCode = 1;
}

/** The API answered with a problem document (RFC 9457). */
export class ApiProblemError extends CliError {
  override name = 'ApiProblemError';
  constructor(readonly status: number, readonly title: string, readonly detail: string) {
    super(`${title}: ${detail}`);
  }
}

export function isApiProblem(error: unknown, status?: number): error is ApiProblemError {
  return error instanceof ApiProblemError && (status === undefined || error.status === status);
}

/** `--help` was given: print `usage` and exit 0. */
export class HelpRequested extends Error {
  override name = 'HelpRequested';
  readonly exitCode = 0;
  constructor(readonly usage: string) {
    super('help requested');
  }
}
