// Where a deploy may write: only inside the agent's own `allowedPaths`, decided on real paths so that
// neither a `..` segment nor a symlink anywhere in the path can lead a write outside. The controller names
// the files; this module is why it cannot name /etc/shadow.
import { lstat, realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, normalize, relative, sep } from 'node:path';

export class PathNotAllowedError extends Error {
  override name = 'PathNotAllowedError';
  constructor(readonly path: string, readonly reason: string, options?: ErrorOptions) {
    super(`refusing ${path}: ${reason}`, options);
  }
}

export function isPathNotAllowed(err: unknown): err is PathNotAllowedError {
  return err instanceof PathNotAllowedError;
}

/** The allowed roots as real paths; roots that do not exist allow nothing and are dropped. */
export async function resolveAllowedRoots(allowedPaths: readonly string[]): Promise<string[]> {
  const roots: string[] = [];
  for (const path of allowedPaths) {
    if (!isAbsolute(path)) throw new PathNotAllowedError(path, 'allowedPaths entries must be absolute');
    const real = await realpath(path).catch(() => null);
    if (real !== null) roots.push(real);
  }
  return roots;
}

/** True when `path` is strictly below `root` (both real, absolute paths); the root itself is not "inside". */
export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

function checkShape(path: string): void {
  if (path.includes('\0')) throw new PathNotAllowedError(path, 'the path contains a NUL byte');
  if (!isAbsolute(path)) throw new PathNotAllowedError(path, 'the path is not absolute');
  // Refused outright, even when the result would land inside: a path that climbs is a mistake or an attack.
  if (path.split(/[\\/]+/).includes('..')) throw new PathNotAllowedError(path, 'the path contains a ".." segment');
}

function checkInsideRoots(path: string, real: string, roots: readonly string[], what: string): void {
  if (!roots.some((root) => isInside(root, real))) {
    const via = real === path ? '' : ` (it resolves to ${real})`;
    throw new PathNotAllowedError(path, `${what} is outside the agent's allowedPaths${via}`);
  }
}

/**
 * The real path a deploy writes to for `path`, or PathNotAllowedError. The parent directory must exist and
 * resolve inside `roots` (real paths from resolveAllowedRoots). A symlink at the target itself is written
 * through (its real file replaced, the link kept) only when it resolves inside `roots`; anything that is
 * not a regular file is refused.
 */
export async function resolveWritablePath(path: string, roots: readonly string[]): Promise<string> {
  checkShape(path);
  const normal = normalize(path);
  const parent = await realpath(dirname(normal)).catch((cause: NodeJS.ErrnoException) => {
    throw new PathNotAllowedError(path, `its directory cannot be resolved (${cause.code ?? cause.message})`, { cause });
  });
  const lexical = join(parent, basename(normal));
  checkInsideRoots(path, lexical, roots, 'the file');
  const stats = await lstat(lexical).catch((cause: NodeJS.ErrnoException) => {
    if (cause.code === 'ENOENT') return null;
    throw new PathNotAllowedError(path, `cannot inspect it (${cause.code ?? cause.message})`, { cause });
  });
  if (stats === null) return lexical;
  if (stats.isSymbolicLink()) {
    const target = await realpath(lexical).catch((cause: NodeJS.ErrnoException) => {
      throw new PathNotAllowedError(path, `it is a symlink that cannot be resolved (${cause.code ?? cause.message})`, { cause });
    });
    checkInsideRoots(path, target, roots, 'the symlink\'s target');
    const targetStats = await lstat(target);
    if (!targetStats.isFile()) throw new PathNotAllowedError(path, 'the symlink does not lead to a regular file');
    return target;
  }
  if (!stats.isFile()) throw new PathNotAllowedError(path, 'it exists and is not a regular file');
  return lexical;
}

/**
 * The real path of a file a target only reads or hands to its service (a main config, a crt-list, a pid
 * file): it must be inside `roots` or be one of `extraFiles` (the service configs the agent's own config
 * names), compared as real paths.
 */
export async function resolveReadablePath(path: string, roots: readonly string[], extraFiles: readonly string[] = []): Promise<string> {
  checkShape(path);
  const real = await realpath(path).catch((cause: NodeJS.ErrnoException) => {
    throw new PathNotAllowedError(path, `it cannot be resolved (${cause.code ?? cause.message})`, { cause });
  });
  for (const extra of extraFiles) {
    if ((await realpath(extra).catch(() => null)) === real) return real;
  }
  checkInsideRoots(path, real, roots, 'the file');
  return real;
}

/** A directory a target writes into (HAProxy's crt directory): it must resolve inside `roots` or be one of them. */
export async function resolveWritableDirectory(path: string, roots: readonly string[]): Promise<string> {
  checkShape(path);
  const real = await realpath(path).catch((cause: NodeJS.ErrnoException) => {
    throw new PathNotAllowedError(path, `it cannot be resolved (${cause.code ?? cause.message})`, { cause });
  });
  if (!roots.some((root) => root === real || isInside(root, real))) {
    throw new PathNotAllowedError(path, `the directory is outside the agent's allowedPaths${real === path ? '' : ` (it resolves to ${real})`}`);
  }
  return real;
}
