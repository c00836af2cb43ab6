// On agent start: finish or undo every deploy the journal says was interrupted (the agent was killed, the
// host lost power). A deploy whose every new file is fully in place and whose services accept the config
// is completed; any other (some files still old, a rollback under way, a config test that now fails) is
// reverted from its backups. Either way the services are reloaded so what they serve matches the files.
// Endpoint validation is left to the workflow: the controller learns of the recovery and re-validates.
import { createDeployTarget, type TargetOptions } from './create-target.js';
import { DeployJournal, type JournalEntry } from './deploy-journal.js';
import type { DeployEnvironment, DeployTarget } from './deploy-target.js';
import { currentSha256, restoreFiles } from './file-swap.js';
import { removeIfPresent } from './atomic-write.js';
import { testAndReloadEach, type TargetReload } from './rollback.js';

export interface RecoveredDeploy {
  deployId: string;
  /** completed: the new files stay; reverted: the old ones are back. */
  action: 'completed' | 'reverted';
  why: string;
  files: string[];
  reloads: TargetReload[];
  /** Anything that went wrong; non-empty means the host needs an operator (also logged as an error). */
  problems: string[];
}

export interface RecoverOptions {
  stateDir: string;
  env: DeployEnvironment;
  signal: AbortSignal;
}

/** The deploy's targets, built again from the journaled options; a target that cannot be is a problem. */
export async function rebuildTargets(entry: JournalEntry, env: DeployEnvironment, problems: string[]): Promise<DeployTarget[]> {
  const targets: DeployTarget[] = [];
  for (const { id, options } of entry.targets) {
    try {
      targets.push(await createDeployTarget(options as TargetOptions, env));
    } catch (err) {
      problems.push(`cannot rebuild target ${id}: ${(err as Error).message}`);
    }
  }
  return targets;
}

async function recoverOne(entry: JournalEntry, journal: DeployJournal, options: RecoverOptions): Promise<RecoveredDeploy> {
  const problems: string[] = [];
  for (const file of entry.files) await removeIfPresent(file.tempPath).catch(() => undefined);
  const current = await Promise.all(entry.files.map((f) => currentSha256(f.path)));
  const allNew = entry.files.every((f, i) => current[i] === f.newSha256);
  const targets = await rebuildTargets(entry, options.env, problems);
  let action: RecoveredDeploy['action'] = 'reverted';
  let why = entry.state === 'rolling-back' ? 'a rollback was under way' : 'not every new file was in place';
  if (entry.state !== 'rolling-back' && allNew) {
    const failedTest = await firstFailingTest(targets, options.signal);
    if (failedTest === null && targets.length === entry.targets.length) {
      action = 'completed';
      why = 'every new file was in place and the config tests pass';
    } else {
      why = failedTest ? `every new file was in place but ${failedTest}` : 'every new file was in place but a target could not be rebuilt to test it';
    }
  }
  if (action === 'reverted') {
    for (const failure of await restoreFiles(entry.files)) problems.push(`could not restore ${failure.path}: ${failure.error.message}`);
  }
  const reloads = await testAndReloadEach(targets, options.signal);
  problems.push(...reloads.filter((r) => !r.ok).map((r) => `could not reload ${r.targetId}: ${r.error}`));
  const restoreFailed = problems.some((p) => p.startsWith('could not restore'));
  // A revert that could not restore every file stays unfinished, to be tried again at the next start.
  if (!restoreFailed) await journal.setState(entry, 'recovered', `${action} on agent start: ${why}`);
  return { deployId: entry.deployId, action, why, files: entry.files.map((f) => f.path), reloads, problems };
}

async function firstFailingTest(targets: readonly DeployTarget[], signal: AbortSignal): Promise<string | null> {
  for (const target of targets) {
    try {
      await target.test(signal);
    } catch (err) {
      return `the config test of ${target.id} fails (${(err as Error).message})`;
    }
  }
  return null;
}

/** Finishes or reverts every interrupted deploy, oldest first; resolves with what was done to each. */
export async function recoverInterruptedDeploys(options: RecoverOptions): Promise<RecoveredDeploy[]> {
  const journal = new DeployJournal(options.stateDir);
  const recovered: RecoveredDeploy[] = [];
  for (const entry of await journal.unfinished()) {
    const log = options.env.log.child({ deployId: entry.deployId });
    const result = await recoverOne(entry, journal, options);
    if (result.problems.length) log.error({ action: result.action, problems: result.problems }, 'interrupted deploy recovered with problems');
    else log.warn({ action: result.action, why: result.why }, 'interrupted deploy recovered');
    recovered.push(result);
  }
  return recovered;
}
