// Replacing a file so that a reader (or a crash, or a full disk) sees either the whole old content or the
// whole new content, never a mix: write a temporary file beside the target (same directory, so rename is
// atomic on the same filesystem), fsync it, rename it over the target, fsync the directory so the rename
// itself survives a power cut. Staging and committing are separate so a deploy can stage every file first
// and only start renaming once all of them are safely on disk.
import { randomBytes } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export class AtomicWriteError extends Error {
  override name = 'AtomicWriteError';
  /** The errno code of the failure (ENOSPC for a full disk), when there is one. */
  readonly code: string | undefined;
  constructor(readonly path: string, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException)?.code;
    super(`cannot write ${path}: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.code = code;
  }
}

/** Writes `chunk` at `position`, resolving with the bytes written; injectable so tests can fill the disk. */
export type ChunkWriter = (handle: FileHandle, chunk: Buffer, position: number) => Promise<number>;

const defaultChunkWriter: ChunkWriter = async (handle, chunk, position) => (await handle.write(chunk, 0, chunk.length, position)).bytesWritten;

export interface FileAttributes {
  mode: number;
  uid?: number;
  gid?: number;
}

export interface StageOptions {
  /** The temporary name to use (a deploy journals it first so a crash leaves nothing it cannot find). */
  tempPath?: string;
  writeChunk?: ChunkWriter;
}

export interface StagedFile {
  readonly path: string;
  readonly tempPath: string;
}

const CHUNK_BYTES = 64 * 1024;

/** A unique, hidden name beside `path`: same directory, so the final rename never crosses filesystems. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.certflow-${randomBytes(6).toString('hex')}.tmp`);
}

/** Writes `content` to a new temporary file beside `path`, with its final owner and mode, fsynced. */
export async function stageFile(path: string, content: Buffer, attributes: FileAttributes, options: StageOptions = {}): Promise<StagedFile> {
  const tempPath = options.tempPath ?? tempPathFor(path);
  const writeChunk = options.writeChunk ?? defaultChunkWriter;
  let handle: FileHandle | undefined;
  let created = false;
  try {
    // 'wx': never reuse or follow an existing name; 0600 until the content is complete, whatever the final mode.
    handle = await open(tempPath, 'wx', 0o600);
    created = true;
    for (let position = 0; position < content.length;) {
      const written = await writeChunk(handle, content.subarray(position, position + CHUNK_BYTES), position);
      if (written <= 0) throw new Error(`short write at byte ${position}`);
      position += written;
    }
    if (attributes.uid !== undefined || attributes.gid !== undefined) {
      await handle.chown(attributes.uid ?? -1, attributes.gid ?? -1);
    }
    await handle.chmod(attributes.mode);
    await handle.sync();
    await handle.close();
    handle = undefined;
    return { path, tempPath };
  } catch (cause) {
    await handle?.close().catch(() => undefined);
    // Only a file this call created: an existing name (EEXIST) belongs to someone else.
    if (created) await removeIfPresent(tempPath).catch(() => undefined);
    throw new AtomicWriteError(path, cause);
  }
}

/** Renames the staged file over its target and makes the rename durable. */
export async function commitStaged(staged: StagedFile): Promise<void> {
  try {
    await rename(staged.tempPath, staged.path);
  } catch (cause) {
    await removeIfPresent(staged.tempPath).catch(() => undefined);
    throw new AtomicWriteError(staged.path, cause);
  }
  await fsyncDirectory(dirname(staged.path));
}

export async function discardStaged(staged: StagedFile): Promise<void> {
  await removeIfPresent(staged.tempPath);
}

export async function writeFileAtomic(path: string, content: Buffer, attributes: FileAttributes, options: StageOptions = {}): Promise<void> {
  await commitStaged(await stageFile(path, content, attributes, options));
}

/** fsync on a directory makes the entries created, renamed or removed in it durable. */
export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Removes a file (and makes its removal durable); a file that is already gone is fine. */
export async function removeIfPresent(path: string): Promise<boolean> {
  try {
    await unlink(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  await fsyncDirectory(dirname(path)).catch(() => undefined);
  return true;
}
