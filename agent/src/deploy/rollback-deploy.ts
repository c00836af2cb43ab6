// Rolling back an earlier deploy when the controller asks (a RollbackJob): a fan-out whose later batch
// failed, a deploy left in place under a manual rollback policy, or an operator's decision. The journal
// says which files the deploy replaced and where their backups are; the files themselves say whether that
// is still what the host holds. Only a deploy whose files are all still its own is undone: restoring the
// backups of an older deploy over a newer one would throw the newer certificate away.
import { DeployJournal, JournalError, UNFINISHED_STATES, type JournalEntry } from './deploy-journal.js';
import type { DeployEnvironment } from './deploy-target.js';
import { currentSha256 } from './file-swap.js';
import { rebuildTargets } from './recover-interrupted.js';
import { rollback, type RollbackReport } from './rollback.js';
import { DEFAULT_VALIDATION_SETTINGS, type Endpoint, type ValidationSettings } from './validate.js';

export interface RollbackDeployOptions {
  stateDir: string;
  env: DeployEnvironment;
  deployId: string;
  /** Endpoints to prove the old certificate on. */
  endpoints: readonly Endpoint[];
  /** "AB:CD:..." of the certificate served before the deploy; null: the endpoints are not checked. */
  expectedFingerprint256: string | null;
  settings?: ValidationSettings;
  signal: AbortSignal;
}

export type RollbackDeployResult =
  | { status: 'rolled-back' | 'rollback-failed'; report: RollbackReport }
  /** Every file already holds what it held before the deploy (rolled back earlier, or reverted on restart). */
  | { status: 'already-rolled-back'; reason: string }
  /** The deploy stopped before it replaced anything. */
  | { status: 'nothing-to-roll-back'; reason: string }
  | { status: 'refused'; reason: string };

type FilesNow = 'new' | 'old' | 'other';

/** Whether every file holds the deploy's new content, every one its old content (or is absent again), or neither. */
async function filesNow(entry: JournalEntry): Promise<{ state: FilesNow; changed: string[] }> {
  const current = await Promise.all(entry.files.map((f) => currentSha256(f.path)));
  if (entry.files.every((f, i) => current[i] === f.newSha256)) return { state: 'new', changed: [] };
  if (entry.files.every((f, i) => current[i] === (f.previous?.sha256 ?? null))) return { state: 'old', changed: [] };
  return { state: 'other', changed: entry.files.filter((f, i) => current[i] !== f.newSha256 && current[i] !== (f.previous?.sha256 ?? null)).map((f) => f.path) };
}

/** A state in which a deploy's new files may still be in place (everything but "nothing happened" and "undone"). */
function mayHoldItsFiles(entry: JournalEntry): boolean {
  if (entry.state === 'abandoned' || entry.state === 'rolled-back') return false;
  // Recovery notes its action first: "reverted on agent start: ...".
  return !(entry.state === 'recovered' && entry.note?.startsWith('reverted'));
}

/** Later deploys that wrote any of this deploy's files and were not undone: their content must not be thrown away. */
async function laterDeploysOver(entry: JournalEntry, journal: DeployJournal): Promise<string[]> {
  const paths = new Set(entry.files.map((f) => f.path));
  return (await journal.list())
    .filter((e) => e.deployId !== entry.deployId && e.startedAt > entry.startedAt && mayHoldItsFiles(e) && e.files.some((f) => paths.has(f.path)))
    .map((e) => e.deployId);
}

export async function rollbackDeploy(options: RollbackDeployOptions): Promise<RollbackDeployResult> {
  const journal = new DeployJournal(options.stateDir);
  let entry: JournalEntry;
  try {
    entry = await journal.read(options.deployId);
  } catch (err) {
    if (err instanceof JournalError) return { status: 'refused', reason: err.message };
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'refused', reason: `this agent has no deploy "${options.deployId}"` };
    throw err;
  }
  if (UNFINISHED_STATES.includes(entry.state)) {
    return { status: 'refused', reason: `deploy "${options.deployId}" is unfinished (${entry.state}); the agent finishes or reverts it at its next start` };
  }
  if (entry.state === 'abandoned') return { status: 'nothing-to-roll-back', reason: 'the deploy stopped before it replaced any file' };
  const files = await filesNow(entry);
  // A failed rollback may have restored the files and failed to reload: trying again is the way out.
  if (files.state === 'old' && entry.state !== 'rollback-failed') {
    return { status: 'already-rolled-back', reason: `every file already holds its content from before the deploy (journal: ${entry.state})` };
  }
  if (files.state === 'other') {
    return { status: 'refused', reason: `changed since deploy "${options.deployId}" (by another deploy or by hand), not rolled back: ${files.changed.join(', ')}` };
  }
  // The same bytes may have been written again by a later deploy (a redeploy of one certificate): restoring
  // this deploy's backups would then undo that one too, behind its back.
  const later = await laterDeploysOver(entry, journal);
  if (later.length && files.state === 'new') {
    return { status: 'refused', reason: `later deploys replaced the same files since deploy "${options.deployId}" (${later.join(', ')}); roll those back first` };
  }
  const problems: string[] = [];
  const targets = await rebuildTargets(entry, options.env, problems);
  // Restoring files whose services cannot then be reloaded would leave them serving something nobody chose.
  if (problems.length) return { status: 'refused', reason: problems.join('; ') };
  const report = await rollback({
    journal, entry, targets, settings: options.settings ?? DEFAULT_VALIDATION_SETTINGS, log: options.env.log.child({ deployId: entry.deployId }), signal: options.signal,
    servedBefore: options.endpoints.map((endpoint) => ({ endpoint, fingerprint256: options.expectedFingerprint256 })),
  });
  return { status: report.ok ? 'rolled-back' : 'rollback-failed', report };
}
