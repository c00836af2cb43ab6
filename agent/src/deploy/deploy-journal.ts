// The deploy journal: before a deploy touches a single target file it records, durably, every file it will
// replace, where that file's backup is, the temporary name it will stage under and the hash of the new
// content. Each later milestone rewrites the entry (atomically, fsynced). A crash at any instant therefore
// leaves an entry that says exactly what may be half done, and recovery (recover-interrupted.ts) can finish
// or undo it. One directory per deploy under <stateDir>/deploy holds the entry and its backups (0700: the
// backups include private keys).
import { mkdir, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-write.js';
import type { TargetKind } from './deploy-target.js';
import type { FileChangeRecord } from './file-swap.js';

/**
 * prepared: journal written, files may be partly swapped. swapped: every file in place, service not yet
 * proven. rolling-back: a rollback started and must be finished. The rest are final (validation-failed:
 * every file in place, the endpoints did not prove it, and the rollback policy left the decision to the
 * controller, which may still send a rollback).
 */
export type JournalState = 'prepared' | 'swapped' | 'rolling-back' | 'done' | 'abandoned' | 'rolled-back' | 'rollback-failed' | 'recovered'
  | 'validation-failed';

export const UNFINISHED_STATES: readonly JournalState[] = ['prepared', 'swapped', 'rolling-back'];

export interface JournalTarget {
  id: string;
  options: Readonly<{ kind: TargetKind }>;
}

export interface JournalEntry {
  version: 1;
  deployId: string;
  state: JournalState;
  startedAt: string;
  updatedAt: string;
  fingerprint256: string;
  targets: JournalTarget[];
  files: FileChangeRecord[];
  /** Why the entry reached a final state other than done, when it did. */
  note?: string;
}

export class JournalError extends Error {
  override name = 'JournalError';
}

const DEPLOY_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export class DeployJournal {
  readonly root: string;

  constructor(stateDir: string, private readonly now: () => Date = () => new Date()) {
    this.root = join(stateDir, 'deploy');
  }

  dirOf(deployId: string): string {
    // The id may come from the controller (a job id): it names a directory, so it must be a plain name.
    if (!DEPLOY_ID.test(deployId)) throw new JournalError(`invalid deploy id "${deployId}"`);
    return join(this.root, deployId);
  }

  backupDirOf(deployId: string): string {
    return join(this.dirOf(deployId), 'backup');
  }

  private fileOf(deployId: string): string {
    return join(this.dirOf(deployId), 'journal.json');
  }

  /**
   * Creates the deploy's directory and its backup directory. One left by a crash before `begin` is reused:
   * without an entry nothing in it was ever relied on (callers check `read` for an existing entry first).
   */
  async create(deployId: string): Promise<void> {
    await mkdir(this.backupDirOf(deployId), { recursive: true, mode: 0o700 });
  }

  async begin(entry: Omit<JournalEntry, 'version' | 'state' | 'startedAt' | 'updatedAt'>): Promise<JournalEntry> {
    const at = this.now().toISOString();
    const full: JournalEntry = { version: 1, state: 'prepared', startedAt: at, updatedAt: at, ...entry };
    await this.write(full);
    return full;
  }

  async setState(entry: JournalEntry, state: JournalState, note?: string): Promise<JournalEntry> {
    const next: JournalEntry = { ...entry, state, updatedAt: this.now().toISOString(), ...(note === undefined ? {} : { note }) };
    await this.write(next);
    return next;
  }

  async read(deployId: string): Promise<JournalEntry> {
    const entry = JSON.parse(await readFile(this.fileOf(deployId), 'utf8')) as JournalEntry;
    if (entry.version !== 1) throw new JournalError(`journal of ${deployId} has unknown version ${String(entry.version)}`);
    return entry;
  }

  /** Every entry, oldest first; a directory without a readable entry (a crash before begin) is skipped. */
  async list(): Promise<JournalEntry[]> {
    const names = await readdir(this.root).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [] as string[];
      throw err;
    });
    const entries: JournalEntry[] = [];
    for (const name of names.filter((n) => DEPLOY_ID.test(n))) {
      const entry = await this.read(name).catch(() => null);
      if (entry) entries.push(entry);
    }
    return entries.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  }

  async unfinished(): Promise<JournalEntry[]> {
    return (await this.list()).filter((e) => UNFINISHED_STATES.includes(e.state));
  }

  private async write(entry: JournalEntry): Promise<void> {
    await writeFileAtomic(this.fileOf(entry.deployId), Buffer.from(JSON.stringify(entry, null, 2)), { mode: 0o600 });
  }
}
