// One deploy of one certificate to the targets on this host: check → probe → backup → journal → write →
// test → reload → validate. Nothing is written until the material, every path and every plan have been
// checked; nothing is renamed into place until every new file is staged and the journal says so. A failure
// before the first rename changes nothing; a failure after it is rolled back, and the result says which
// step failed, why, and whether the rollback worked. Every step is timed.
import { randomBytes } from 'node:crypto';
import { resolveWritablePath } from './allowed-paths.js';
import type { ChunkWriter, StagedFile } from './atomic-write.js';
import { DeployJournal, type JournalEntry, type JournalState } from './deploy-journal.js';
import type { DeployEnvironment, DeployMaterial, DeployTarget, PlannedWrite } from './deploy-target.js';
import { commitChanges, discardAll, isUnchanged, prepareFileChanges, recordOf, stageChanges, writeBackups, type FileChange } from './file-swap.js';
import { checkMaterial, isMaterialRefused, type CheckedMaterial } from './material-check.js';
import { rollback, type RollbackReport, type ServedBefore } from './rollback.js';
import { StepFailedError, StepTimer, type StepTiming } from './step-timer.js';
import {
  DEFAULT_VALIDATION_SETTINGS, probeServedFingerprint, validateEndpoints, type Endpoint, type EndpointValidation, type ValidationSettings,
} from './validate.js';

export type DeployStep = 'check' | 'probe' | 'backup' | 'journal' | 'write' | 'test' | 'reload' | 'validate';

export interface DeployOptions {
  env: Pick<DeployEnvironment, 'allowedRoots' | 'log'>;
  /** The agent's state dir: journal and backups live under <stateDir>/deploy. */
  stateDir: string;
  /** Names the journal directory; the controller's job id makes a redelivered job a no-op. */
  deployId?: string;
  /** Every endpoint that serves this certificate, probed before and validated after. */
  endpoints: readonly Endpoint[];
  /** PEM roots the served chain must verify to (empty: Node's bundled public roots). */
  caRoots: readonly string[];
  validation?: Partial<ValidationSettings>;
  signal: AbortSignal;
  /** A rollback runs on its own deadline: it must finish even when the deploy was aborted. */
  rollbackTimeoutMs?: number;
  /**
   * false (a manual rollback policy): when only the endpoint validation fails, the new files stay in place
   * ("validation-failed") and the controller decides. A failed config test or reload is rolled back
   * whatever this says: a service config that does not load must never be left behind. Default true.
   */
  rollbackOnFailure?: boolean;
  now?: () => Date;
  /** Tests only: a write function that can fill the disk. */
  writeChunk?: ChunkWriter;
  /** Tests only: called at named points ("journal-written", "swapped:0", ...) so a test can stop the process there. */
  onPoint?: (point: string) => Promise<void> | void;
}

/** Which files of one target the deploy replaced, and which already held the new content. */
export interface TargetFiles {
  targetId: string;
  kind: DeployTarget['kind'];
  /** Real paths. */
  changedFiles: string[];
  unchangedFiles: string[];
}

interface ResultBase {
  deployId: string;
  fingerprint256: string | null;
  /** Per target, once the check step planned the files (empty before that). */
  targets: TargetFiles[];
  steps: StepTiming[];
  totalMs: number;
}

export type DeployResult =
  | (ResultBase & { status: 'deployed'; changedFiles: string[]; validations: EndpointValidation[] })
  /** Refused before anything was written: bad material, a path outside allowedPaths, a plan that failed. */
  | (ResultBase & { status: 'refused'; failedStep: 'check'; problem: string; reason: string })
  /** Failed before the first file was swapped (e.g. a full disk while staging): nothing changed. */
  | (ResultBase & { status: 'failed'; failedStep: DeployStep; reason: string })
  | (ResultBase & { status: 'rolled-back' | 'rollback-failed'; failedStep: DeployStep; reason: string; validations: EndpointValidation[]; rollback: RollbackReport })
  /** rollbackOnFailure was false and only the validation failed: the new files stay in place, services reloaded. */
  | (ResultBase & { status: 'validation-failed'; failedStep: 'validate'; reason: string; changedFiles: string[]; validations: EndpointValidation[] })
  /** This deploy id already ran to a final state; nothing was done again. */
  | (ResultBase & { status: 'duplicate'; previousState: JournalState });

export class ValidationFailedError extends Error {
  override name = 'ValidationFailedError';
  constructor(readonly validations: EndpointValidation[]) {
    super(validations.filter((v) => !v.ok).map((v) => v.reason).join('; '));
  }
}

export function newDeployId(now: Date = new Date()): string {
  return `${now.toISOString().replace(/[:.]/g, '-')}-${randomBytes(4).toString('hex')}`;
}

/** The refusal's kind for the result: the material problem, or what else stopped the check. */
function problemOf(err: unknown): string {
  const cause = err instanceof StepFailedError ? err.cause : err;
  if (isMaterialRefused(cause)) return cause.problem;
  const name = (cause as Error)?.name;
  return name === 'PathNotAllowedError' ? 'path' : name === 'ConflictingWritesError' ? 'conflict' : 'plan';
}

export async function deploy(targets: readonly DeployTarget[], material: DeployMaterial, options: DeployOptions): Promise<DeployResult> {
  const started = performance.now();
  const deployId = options.deployId ?? newDeployId(options.now?.());
  const log = options.env.log.child({ deployId });
  const journal = new DeployJournal(options.stateDir, options.now);
  const settings = { ...DEFAULT_VALIDATION_SETTINGS, ...options.validation };
  const timer = new StepTimer(log);
  const point = async (name: string) => options.onPoint?.(name);
  let targetFiles: TargetFiles[] = [];
  const base = (fingerprint256: string | null): ResultBase => ({
    deployId, fingerprint256, targets: targetFiles, steps: timer.timings, totalMs: Math.round(performance.now() - started),
  });

  const previous = await journal.read(deployId).catch(() => null);
  if (previous) return { ...base(previous.fingerprint256), status: 'duplicate', previousState: previous.state };

  let checked: CheckedMaterial;
  let changes: FileChange[];
  try {
    ({ checked, changes } = await timer.run('check', async () => {
      const names = new Set([...targets.flatMap((t) => t.expectedNames), ...options.endpoints.map((e) => e.serverName)]);
      const facts = checkMaterial(material, [...names], options.now?.());
      const planned: { target: DeployTarget; writes: PlannedWrite[] }[] = [];
      for (const target of targets) planned.push({ target, writes: await target.plan(material, options.signal) });
      const all = await prepareFileChanges(planned.flatMap((p) => p.writes), options.env.allowedRoots, journal.backupDirOf(deployId));
      const changed = all.filter((c) => !isUnchanged(c));
      targetFiles = await filesByTarget(planned, new Set(changed.map((c) => c.path)), options.env.allowedRoots);
      return { checked: facts, changes: changed };
    }));
  } catch (err) {
    log.warn({ err }, 'deploy refused');
    return { ...base(null), status: 'refused', failedStep: 'check', problem: problemOf(err), reason: (err as Error).message };
  }

  const servedBefore: ServedBefore[] = await timer.run('probe', () => Promise.all(options.endpoints.map(async (endpoint) => ({
    endpoint, fingerprint256: await probeServedFingerprint(endpoint, settings.handshakeTimeoutMs, options.signal),
  }))));

  let entry: JournalEntry | undefined;
  let staged: StagedFile[] = [];
  let swapStarted = false;
  try {
    await timer.run('backup', async () => {
      await journal.create(deployId);
      await writeBackups(changes, journal.backupDirOf(deployId), options.writeChunk);
    });
    await point('backups-written');
    entry = await timer.run('journal', () => journal.begin({
      deployId, fingerprint256: checked.fingerprint256, targets: targets.map((t) => ({ id: t.id, options: t.options })), files: changes.map(recordOf),
    }));
    await point('journal-written');
    await timer.run('write', async () => {
      staged = await stageChanges(changes, options.writeChunk);
      await point('staged');
      swapStarted = true;
      await commitChanges(staged, (index) => point(`swapped:${index}`));
      entry = await journal.setState(entry!, 'swapped');
    });
    await point('swapped');
    await timer.run('test', async () => {
      for (const target of targets) await target.test(options.signal);
    });
    await timer.run('reload', async () => {
      for (const target of targets) await target.reload(options.signal);
    });
    await point('reloaded');
    const validations = await timer.run('validate', async () => {
      const results = await validateEndpoints(options.endpoints, { expectedFingerprint256: checked.fingerprint256, caRoots: options.caRoots, settings, signal: options.signal, now: options.now });
      if (results.some((v) => !v.ok)) throw new ValidationFailedError(results);
      return results;
    });
    // The deploy is proven; failing to record that must not undo it. The entry stays "swapped" and the next
    // agent start completes it (every new file is in place).
    await journal.setState(entry, 'done').catch((err: unknown) => log.error({ err }, 'deploy done but its journal entry could not be closed'));
    log.info({ files: changes.length, endpoints: validations.length }, 'deploy done');
    return { ...base(checked.fingerprint256), status: 'deployed', changedFiles: changes.map((c) => c.path), validations };
  } catch (err) {
    const failedStep = (err instanceof StepFailedError ? err.step : 'write') as DeployStep;
    const reason = (err as Error).message;
    const validations = (err as Error).cause instanceof ValidationFailedError ? ((err as Error).cause as ValidationFailedError).validations : [];
    if (failedStep === 'validate' && options.rollbackOnFailure === false && entry) {
      await journal.setState(entry, 'validation-failed', reason).catch((e: unknown) => log.error({ err: e }, 'could not record the failed validation'));
      log.warn({ reason }, 'validation failed; files left in place (rollback policy is manual)');
      return { ...base(checked.fingerprint256), status: 'validation-failed', failedStep, reason, changedFiles: changes.map((c) => c.path), validations };
    }
    if (!swapStarted) {
      await discardAll(staged);
      if (entry) await journal.setState(entry, 'abandoned', reason).catch(() => undefined);
      log.warn({ failedStep, reason }, 'deploy failed before any file was replaced');
      return { ...base(checked.fingerprint256), status: 'failed', failedStep, reason };
    }
    log.warn({ failedStep, reason }, 'deploy failed, rolling back');
    const report = await rollback({
      journal, entry: entry!, targets, servedBefore, settings, log, signal: AbortSignal.timeout(options.rollbackTimeoutMs ?? 120_000), onPoint: options.onPoint,
    });
    timer.timings.push(...report.steps);
    return {
      ...base(checked.fingerprint256), status: report.ok ? 'rolled-back' : 'rollback-failed', failedStep, reason, validations, rollback: report,
    };
  }
}

/** Each target's planned paths, resolved as the deploy resolves them, split into changed and unchanged. */
async function filesByTarget(
  planned: readonly { target: DeployTarget; writes: readonly PlannedWrite[] }[], changed: ReadonlySet<string>, roots: readonly string[],
): Promise<TargetFiles[]> {
  return Promise.all(planned.map(async ({ target, writes }) => {
    const paths = [...new Set(await Promise.all(writes.map((w) => resolveWritablePath(w.path, roots))))];
    return { targetId: target.id, kind: target.kind, changedFiles: paths.filter((p) => changed.has(p)), unchangedFiles: paths.filter((p) => !changed.has(p)) };
  }));
}
