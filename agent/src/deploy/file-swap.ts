// The file side of a deploy, in the order that keeps every moment recoverable: resolve and read what is
// there now (prepare), copy it to backups, stage every new file beside its target, and only when all of
// them are on disk rename them into place one by one (commit). Restoring puts the backups back the same
// atomic way and removes files that did not exist before.
import { createHash } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { resolveWritablePath } from './allowed-paths.js';
import {
  commitStaged, discardStaged, removeIfPresent, stageFile, tempPathFor, writeFileAtomic, type ChunkWriter, type FileAttributes, type StagedFile,
} from './atomic-write.js';
import type { PlannedWrite } from './deploy-target.js';

export class ConflictingWritesError extends Error {
  override name = 'ConflictingWritesError';
}

export class BackupCorruptError extends Error {
  override name = 'BackupCorruptError';
}

/** What a file was before the deploy; null when it did not exist. */
export interface PreviousFile {
  sha256: string;
  attributes: FileAttributes;
}

/** One file a deploy replaces: everything the journal needs to finish or undo it, except the bytes. */
export interface FileChangeRecord {
  /** The real path written (a symlink at the configured path is written through). */
  path: string;
  tempPath: string;
  /** Where the old content is kept; null when there was no old file. */
  backupPath: string | null;
  newSha256: string;
  attributes: FileAttributes;
  previous: PreviousFile | null;
}

export interface FileChange extends FileChangeRecord {
  content: Buffer;
  previousContent: Buffer | null;
}

export const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

const attributesOf = (s: { mode: number; uid: number; gid: number }): FileAttributes => ({ mode: s.mode & 0o777, uid: s.uid, gid: s.gid });

/** The current content hash of `path`, or null when it does not exist. */
export async function currentSha256(path: string): Promise<string | null> {
  try {
    return sha256(await readFile(path));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/**
 * Resolves every planned write against the allowed roots and reads what is there now. Two targets may plan
 * the same file only with the same content (e.g. two vhosts sharing one certificate file).
 */
export async function prepareFileChanges(writes: readonly PlannedWrite[], roots: readonly string[], backupDir: string): Promise<FileChange[]> {
  const byPath = new Map<string, FileChange>();
  for (const write of writes) {
    const path = await resolveWritablePath(write.path, roots);
    const newSha256 = sha256(write.content);
    const seen = byPath.get(path);
    if (seen) {
      if (seen.newSha256 !== newSha256) throw new ConflictingWritesError(`two targets write different content to ${path}`);
      continue;
    }
    const existing = await stat(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      throw err;
    });
    const previousContent = existing ? await readFile(path) : null;
    const previous = existing && previousContent ? { sha256: sha256(previousContent), attributes: attributesOf(existing) } : null;
    const attributes: FileAttributes = {
      mode: write.mode ?? previous?.attributes.mode ?? (write.secret ? 0o600 : 0o644),
      uid: write.uid ?? previous?.attributes.uid,
      gid: write.gid ?? previous?.attributes.gid,
    };
    const backupPath = previous ? join(backupDir, `${byPath.size}-${basename(path)}`) : null;
    byPath.set(path, { path, tempPath: tempPathFor(path), backupPath, newSha256, attributes, previous, content: write.content, previousContent });
  }
  return [...byPath.values()];
}

/** True when the file would not change at all (same bytes, same owner and mode): nothing to write or undo. */
export function isUnchanged(change: FileChange): boolean {
  const { previous, attributes } = change;
  return previous !== null && previous.sha256 === change.newSha256 && previous.attributes.mode === attributes.mode
    && (attributes.uid === undefined || previous.attributes.uid === attributes.uid)
    && (attributes.gid === undefined || previous.attributes.gid === attributes.gid);
}

export function recordOf(change: FileChange): FileChangeRecord {
  const { path, tempPath, backupPath, newSha256, attributes, previous } = change;
  return { path, tempPath, backupPath, newSha256, attributes, previous };
}

/** Copies the old contents into the backup directory (0700; backups hold private keys), durably. */
export async function writeBackups(changes: readonly FileChange[], backupDir: string, writeChunk?: ChunkWriter): Promise<void> {
  await mkdir(backupDir, { recursive: true, mode: 0o700 });
  for (const change of changes) {
    if (change.backupPath && change.previousContent) {
      await writeFileAtomic(change.backupPath, change.previousContent, { mode: 0o600 }, { writeChunk });
    }
  }
}

/** Stages every new file; when one fails, the ones already staged are removed and the error is rethrown. */
export async function stageChanges(changes: readonly FileChange[], writeChunk?: ChunkWriter): Promise<StagedFile[]> {
  const staged: StagedFile[] = [];
  try {
    for (const change of changes) {
      staged.push(await stageFile(change.path, change.content, change.attributes, { tempPath: change.tempPath, writeChunk }));
    }
    return staged;
  } catch (err) {
    await discardAll(staged);
    throw err;
  }
}

export async function discardAll(staged: readonly StagedFile[]): Promise<void> {
  for (const file of staged) await discardStaged(file).catch(() => undefined);
}

/** Renames the staged files into place in order, calling `afterEach` after each (a crash-test hook point). */
export async function commitChanges(staged: readonly StagedFile[], afterEach: (index: number) => Promise<void> = async () => undefined): Promise<void> {
  for (const [index, file] of staged.entries()) {
    await commitStaged(file);
    await afterEach(index);
  }
}

/** Puts one file back as it was: its backup (checked against the recorded hash), or no file at all. */
export async function restoreFile(record: FileChangeRecord): Promise<void> {
  await removeIfPresent(record.tempPath);
  if (record.previous === null || record.backupPath === null) {
    await removeIfPresent(record.path);
    return;
  }
  const backup = await readFile(record.backupPath);
  if (sha256(backup) !== record.previous.sha256) {
    throw new BackupCorruptError(`backup ${record.backupPath} of ${record.path} does not have the recorded content`);
  }
  // Rewritten even when the bytes are already the old ones, so owner and mode are the old ones too.
  await writeFileAtomic(record.path, backup, record.previous.attributes);
}

/** Restores every file it can; resolves with the failures (path and error), empty when all were restored. */
export async function restoreFiles(records: readonly FileChangeRecord[]): Promise<{ path: string; error: Error }[]> {
  const failures: { path: string; error: Error }[] = [];
  for (const record of records) {
    await restoreFile(record).catch((error: Error) => failures.push({ path: record.path, error }));
  }
  return failures;
}
