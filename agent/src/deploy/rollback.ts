// Undoing a deploy that failed after it changed files: put every backup back atomically (and remove files
// that did not exist before), test and reload every target, and prove from the outside that each endpoint
// serves again what it served before the deploy. A rollback that cannot do all of that is its own, loud
// outcome: the host is then in a state nobody chose, and the operator must know.
import type { Logger } from 'pino';
import type { DeployJournal, JournalEntry } from './deploy-journal.js';
import type { DeployTarget } from './deploy-target.js';
import { restoreFiles } from './file-swap.js';
import { StepTimer, type StepTiming } from './step-timer.js';
import { validateEndpoints, type Endpoint, type EndpointValidation, type ValidationSettings } from './validate.js';

export interface ServedBefore {
  endpoint: Endpoint;
  /** null when the endpoint did not answer before the deploy: there is nothing to compare with. */
  fingerprint256: string | null;
}

export interface RollbackInput {
  journal: DeployJournal;
  entry: JournalEntry;
  targets: readonly DeployTarget[];
  servedBefore: readonly ServedBefore[];
  settings: ValidationSettings;
  log: Logger;
  signal: AbortSignal;
  /** Tests only: called at "rolling-back" (journal says so, nothing restored yet). */
  onPoint?: (point: string) => Promise<void> | void;
}

export interface TargetReload {
  targetId: string;
  ok: boolean;
  error?: string;
}

export interface RollbackReport {
  ok: boolean;
  /** Why the rollback did not succeed, when it did not. */
  reason?: string;
  restoredFiles: string[];
  restoreFailures: { path: string; error: string }[];
  reloads: TargetReload[];
  validations: EndpointValidation[];
  /** Endpoints that did not answer before the deploy, so the old certificate cannot be checked on them. */
  notCheckedEndpoints: Endpoint[];
  steps: StepTiming[];
}

/** Tests then reloads each target, all of them even when one fails; a target whose test fails is not reloaded. */
export async function testAndReloadEach(targets: readonly DeployTarget[], signal: AbortSignal): Promise<TargetReload[]> {
  const reloads: TargetReload[] = [];
  for (const target of targets) {
    try {
      await target.test(signal);
      await target.reload(signal);
      reloads.push({ targetId: target.id, ok: true });
    } catch (err) {
      reloads.push({ targetId: target.id, ok: false, error: (err as Error).message });
    }
  }
  return reloads;
}

export async function rollback(input: RollbackInput): Promise<RollbackReport> {
  const { journal, targets, signal } = input;
  const log = input.log.child({ rollback: true });
  const timer = new StepTimer(log, 'rollback:');
  let entry = await journal.setState(input.entry, 'rolling-back');
  await input.onPoint?.('rolling-back');
  const report: RollbackReport = {
    ok: false, restoredFiles: [], restoreFailures: [], reloads: [], validations: [], notCheckedEndpoints: [], steps: timer.timings,
  };
  const failures = await timer.run('restore', () => restoreFiles(entry.files));
  report.restoreFailures = failures.map(({ path, error }) => ({ path, error: error.message }));
  report.restoredFiles = entry.files.map((f) => f.path).filter((p) => !failures.some((f) => f.path === p));
  report.reloads = await timer.run('reload', () => testAndReloadEach(targets, signal));
  const checkable = input.servedBefore.filter((s): s is ServedBefore & { fingerprint256: string } => s.fingerprint256 !== null);
  report.notCheckedEndpoints = input.servedBefore.filter((s) => s.fingerprint256 === null).map((s) => s.endpoint);
  report.validations = await timer.run('validate', async () => (await Promise.all(checkable.map(({ endpoint, fingerprint256 }) =>
    validateEndpoints([endpoint], {
      expectedFingerprint256: fingerprint256, caRoots: [], checks: { chain: false, names: false, validity: false }, settings: input.settings, signal,
    })))).flat());
  const problems = [
    ...report.restoreFailures.map((f) => `could not restore ${f.path}: ${f.error}`),
    ...report.reloads.filter((r) => !r.ok).map((r) => `could not reload ${r.targetId}: ${r.error}`),
    ...report.validations.filter((v) => !v.ok).map((v) => `old certificate not served again: ${v.reason}`),
  ];
  report.ok = problems.length === 0;
  if (!report.ok) report.reason = problems.join('; ');
  // Files not restored stay "rolling-back" so the next agent start tries again; otherwise the state is final.
  const state = report.restoreFailures.length > 0 ? 'rolling-back' : report.ok ? 'rolled-back' : 'rollback-failed';
  entry = await journal.setState(entry, state, report.reason);
  if (report.ok) log.warn({ deployId: entry.deployId, files: report.restoredFiles.length }, 'deploy rolled back');
  else log.error({ deployId: entry.deployId, reason: report.reason }, 'ROLLBACK FAILED: the host is in neither the old nor the new state');
  return report;
}
