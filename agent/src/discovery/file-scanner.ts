// Walks files and directories and reports every certificate found, one event at a time, so a large tree is
// never held in memory. Nothing on disk can crash a scan: whatever cannot be read becomes a problem event
// naming the path, and the scan carries on.
import { constants as fsConstants, type Stats } from 'node:fs';
import { open, readdir, realpath, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { CertificateFacts } from '../../../proto/shared/certificate-facts.js';
import { extractCertificates, type CertificateFormat } from './pem-der.js';

export type ScanEvent =
  | { type: 'certificate'; path: string; index: number; format: CertificateFormat; der: Buffer; facts: CertificateFacts }
  | { type: 'problem'; path: string; message: string };

export interface ScanOptions {
  signal?: AbortSignal;
  /** Files larger than this are skipped with a problem; certificates and bundles are a few KiB. */
  maxFileBytes?: number;
}

export const DEFAULT_MAX_FILE_BYTES = 1024 * 1024;

export async function* scanPaths(paths: string[], options: ScanOptions = {}): AsyncGenerator<ScanEvent> {
  const walk: Walk = {
    signal: options.signal,
    maxFileBytes: options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES,
    // Real paths of directories already entered: a symlink back up the tree is then seen once, not forever.
    visitedDirectories: new Set<string>(),
  };
  for (const path of paths) {
    yield* scanPath(resolve(path), walk);
  }
}

interface Walk {
  signal: AbortSignal | undefined;
  maxFileBytes: number;
  visitedDirectories: Set<string>;
}

async function* scanPath(path: string, walk: Walk): AsyncGenerator<ScanEvent> {
  walk.signal?.throwIfAborted();
  let stats: Stats;
  try {
    // stat, not lstat: symlinked files are certificates like any other (/etc/ssl/certs is mostly links).
    stats = await stat(path);
  } catch (err) {
    yield problem(path, err);
    return;
  }
  if (stats.isDirectory()) {
    yield* scanDirectory(path, walk);
  } else if (stats.isFile()) {
    yield* scanFile(path, walk);
  }
  // Sockets, FIFOs and devices are skipped: reading them could block forever or never end.
}

async function* scanDirectory(path: string, walk: Walk): AsyncGenerator<ScanEvent> {
  let names: string[];
  try {
    const realPath = await realpath(path);
    if (walk.visitedDirectories.has(realPath)) return;
    walk.visitedDirectories.add(realPath);
    names = await readdir(path);
  } catch (err) {
    yield problem(path, err);
    return;
  }
  // Plain code-unit order, not locale order, so two hosts list the same tree the same way.
  names.sort();
  for (const name of names) {
    yield* scanPath(join(path, name), walk);
  }
}

async function* scanFile(path: string, walk: Walk): AsyncGenerator<ScanEvent> {
  let bytes: Buffer;
  try {
    const read = await readSmallFile(path, walk);
    if (read === 'not-a-file') return;
    if (read === 'too-large') {
      yield { type: 'problem', path, message: `skipped: larger than ${walk.maxFileBytes} bytes` };
      return;
    }
    bytes = read;
  } catch (err) {
    if (walk.signal?.aborted) throw err;
    yield problem(path, err);
    return;
  }
  const { occurrences, problems } = extractCertificates(bytes, path);
  for (const message of problems) yield { type: 'problem', path, message };
  for (const { index, format, der, facts } of occurrences) {
    yield { type: 'certificate', path, index, format, der, facts };
  }
}

async function readSmallFile(path: string, walk: Walk): Promise<Buffer | 'not-a-file' | 'too-large'> {
  // O_NONBLOCK: if the path became a FIFO since stat, opening it must not wait for a writer.
  const handle = await open(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) return 'not-a-file';
    if (stats.size > walk.maxFileBytes) return 'too-large';
    const bytes = await handle.readFile({ signal: walk.signal });
    // The file may have grown between stat and read.
    return bytes.length > walk.maxFileBytes ? 'too-large' : bytes;
  } finally {
    await handle.close();
  }
}

const FS_ERROR_MESSAGES: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ELOOP: 'too many levels of symbolic links',
  ENOTDIR: 'not a directory',
  EIO: 'input/output error',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'file name too long',
};

function problem(path: string, err: unknown): ScanEvent {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  // Node's own messages repeat the path ("ENOENT: …, stat '/x'"); the event already names it.
  const message = code === undefined
    ? err instanceof Error ? err.message : String(err)
    : FS_ERROR_MESSAGES[code] ?? code;
  return { type: 'problem', path, message };
}
