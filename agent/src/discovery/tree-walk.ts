// Walks the scan roots depth first, in code-unit order (so two hosts list the same tree the same way), and
// hands out regular files with their stat. Everything else is reported, never followed blindly: FIFOs,
// sockets and devices are skipped (reading one could block forever or never end), a directory reached
// again through a symbolic link is skipped (a link back up the tree would otherwise loop), and whatever
// cannot be listed or stat'ed is a problem naming the path.
//
// Synchronous on purpose: on local files a sync stat or readdir costs a few microseconds, the promise
// versions ten times more, and a scan is tens of thousands of them. The caller yields to the event loop
// between files (see file-scanner.ts), so the agent stays responsive.
import { readdirSync, realpathSync, statSync, type Dirent, type Stats } from 'node:fs';
import type { PathFilter } from './glob.js';

export type WalkItem =
  | { type: 'file'; path: string; stats: Stats }
  | { type: 'problem' | 'skipped'; path: string; message: string };

const FS_ERROR_MESSAGES: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ELOOP: 'too many levels of symbolic links',
  ENOTDIR: 'not a directory',
  EIO: 'input/output error',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in system',
  ENAMETOOLONG: 'file name too long',
  EAGAIN: 'resource temporarily unavailable',
  ENXIO: 'no such device or address',
  EISDIR: 'is a directory',
};

export function fsProblem(path: string, err: unknown): WalkItem {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  // Node's own messages repeat the path ("ENOENT: …, stat '/x'"); the event already names it.
  const message = code === undefined ? (err instanceof Error ? err.message : String(err)) : FS_ERROR_MESSAGES[code] ?? code;
  return { type: 'problem', path, message };
}

export function* walkRoots(roots: readonly string[], filter: PathFilter): Generator<WalkItem> {
  const walk = new Walk(filter);
  for (const root of roots) yield* walk.path(root);
}

class Walk {
  // Real paths of every directory entered, and of those on the current branch: a link to one of the latter
  // is a loop, a link to one of the former a second way into a tree already scanned.
  readonly #visited = new Set<string>();
  readonly #branch = new Set<string>();

  constructor(private readonly filter: PathFilter) {}

  *path(path: string): Generator<WalkItem> {
    if (this.filter.excludes(path)) return;
    let stats: Stats;
    try {
      // stat, not lstat: a symlinked file is a certificate like any other (/etc/ssl/certs is mostly links).
      stats = statSync(path);
    } catch (err) {
      yield fsProblem(path, err);
      return;
    }
    if (stats.isDirectory()) {
      let realPath: string;
      try {
        realPath = realpathSync(path);
      } catch (err) {
        yield fsProblem(path, err);
        return;
      }
      yield* this.directory(path, realPath);
    } else if (stats.isFile()) {
      if (this.filter.includesFile(path)) yield { type: 'file', path, stats };
    } else {
      yield { type: 'skipped', path, message: `skipped: ${specialFileKind(stats)}` };
    }
  }

  *directory(path: string, realPath: string): Generator<WalkItem> {
    if (this.#visited.has(realPath)) {
      const message = this.#branch.has(realPath)
        ? `skipped: symbolic link loop back to ${realPath}`
        : `skipped: directory already scanned as ${realPath}`;
      yield { type: 'skipped', path, message };
      return;
    }
    this.#visited.add(realPath);
    let entries: Dirent[];
    try {
      entries = readdirSync(path, { withFileTypes: true });
    } catch (err) {
      yield fsProblem(path, err);
      return;
    }
    this.#branch.add(realPath);
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const child = path === '/' ? `/${entry.name}` : `${path}/${entry.name}`;
      if (this.filter.excludes(child)) continue;
      // The directory entry's type saves a stat for everything but regular files and links; regular files
      // need theirs anyway (size cap, cache key).
      if (entry.isDirectory()) {
        yield* this.directory(child, realPath === '/' ? `/${entry.name}` : `${realPath}/${entry.name}`);
      } else if (entry.isFile()) {
        if (!this.filter.includesFile(child)) continue;
        try {
          yield { type: 'file', path: child, stats: statSync(child) };
        } catch (err) {
          yield fsProblem(child, err);
        }
      } else if (entry.isSymbolicLink() || isUnknownType(entry)) {
        yield* this.path(child);
      } else {
        yield { type: 'skipped', path: child, message: `skipped: ${direntKind(entry)}` };
      }
    }
    this.#branch.delete(realPath);
  }
}

/** Some filesystems do not give entry types in readdir; those entries are stat'ed like links. */
function isUnknownType(entry: Dirent): boolean {
  return !entry.isFIFO() && !entry.isSocket() && !entry.isCharacterDevice() && !entry.isBlockDevice();
}

function direntKind(entry: Dirent): string {
  if (entry.isFIFO()) return 'FIFO (named pipe)';
  if (entry.isSocket()) return 'socket';
  if (entry.isCharacterDevice()) return 'character device';
  return 'block device';
}

function specialFileKind(stats: Stats): string {
  if (stats.isFIFO()) return 'FIFO (named pipe)';
  if (stats.isSocket()) return 'socket';
  if (stats.isCharacterDevice()) return 'character device';
  if (stats.isBlockDevice()) return 'block device';
  return 'not a regular file';
}
