// The deploy, validate and rollback jobs the controller sends, run with the deploy library under what this
// agent's own config allows: targets are built from the controller's options but checked against the
// agent's allowedPaths and command allowlist, and the key comes from the agent's key store by id. A refusal
// is an answer like any other: the job fails with a structured output saying what was refused and why.
//
// One instance lives as long as the agent process, across sessions: a deploy keeps running when the stream
// breaks, and the same job delivered again on the next session waits for it instead of starting another.
// Deploys and rollbacks run one at a time (two deploys touching one file must not interleave); validations
// only read, so they run at once.
import type { Logger } from 'pino';
import type { AgentConfig } from '../config.js';
import type { DeployJob__Output } from '../../../proto/generated/certflow/agent/v1/DeployJob.js';
import type { DeployOutput } from '../../../proto/generated/certflow/agent/v1/DeployOutput.js';
import type { JobResult } from '../../../proto/generated/certflow/agent/v1/JobResult.js';
import type { RollbackJob__Output } from '../../../proto/generated/certflow/agent/v1/RollbackJob.js';
import type { ValidateJob__Output } from '../../../proto/generated/certflow/agent/v1/ValidateJob.js';
import { isPathNotAllowed } from '../deploy/allowed-paths.js';
import { createDeployTarget, type TargetOptions } from '../deploy/create-target.js';
import { deploy } from '../deploy/deploy.js';
import { createDeployEnvironment } from '../deploy/deploy-environment.js';
import { DeployJournal, JournalError } from '../deploy/deploy-journal.js';
import { loadDeployRecord, saveDeployRecord } from '../deploy/deploy-records.js';
import type { DeployEnvironment, DeployTarget } from '../deploy/deploy-target.js';
import { rollbackDeploy } from '../deploy/rollback-deploy.js';
import { DEFAULT_VALIDATION_SETTINGS, validateEndpoints } from '../deploy/validate.js';
import { importSharedKey } from '../keys/import-key.js';
import { loadKey } from '../keys/key-store.js';
import {
  colonFingerprint, deployOutput, endpointCheck, judgeDeploy, refusedOutput, rollbackOutput, toEndpoint,
} from './deploy-outputs.js';

/** What a job answers: ok, the error text when not, and the kind's output (present even on failure). */
export type JobAnswer = Pick<JobResult, 'ok' | 'error' | 'csr' | 'deploy' | 'validate' | 'rollback'>;

/** A deploy must end even when a reload hangs; rollbacks have their own deadline inside the library. */
const DEPLOY_TIMEOUT_MS = 10 * 60_000;

class Refused extends Error {
  constructor(readonly problem: string, message: string) {
    super(message);
  }
}

/** PEM blocks of a bundle, each one a root the served chain may verify to. */
function pemBlocks(bundle: string): string[] {
  return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

function refusalProblem(err: unknown): string {
  if (isPathNotAllowed(err)) return 'path';
  // Target option errors name the allowlist when a command is the problem (target-support.ts).
  return /command allowlist/.test((err as Error).message) ? 'command' : 'options';
}

export class DeployJobs {
  private readonly running = new Map<string, Promise<JobAnswer>>();
  private exclusive: Promise<unknown> = Promise.resolve();

  constructor(private readonly config: AgentConfig, private readonly log: Logger) {}

  deploy(job: DeployJob__Output): Promise<JobAnswer> {
    return this.once(`deploy:${job.deployId}`, () => this.oneAtATime(() => this.runDeploy(job)));
  }

  rollback(job: RollbackJob__Output): Promise<JobAnswer> {
    return this.once(`rollback:${job.deployId}`, () => this.oneAtATime(() => this.runRollback(job)));
  }

  async validate(job: ValidateJob__Output): Promise<JobAnswer> {
    const started = performance.now();
    const validations = await validateEndpoints(job.endpoints.map(toEndpoint), {
      expectedFingerprint256: colonFingerprint(job.expectedFingerprintSha256), caRoots: pemBlocks(job.trustedRootsPem),
      settings: DEFAULT_VALIDATION_SETTINGS, signal: AbortSignal.timeout(DEPLOY_TIMEOUT_MS),
    });
    const ok = validations.every((v) => v.ok);
    return {
      ok, error: ok ? '' : validations.filter((v) => !v.ok).map((v) => v.reason).join('; '),
      validate: { ok, validations: validations.map(endpointCheck), totalMs: Math.round(performance.now() - started) },
    };
  }

  private once(key: string, work: () => Promise<JobAnswer>): Promise<JobAnswer> {
    const existing = this.running.get(key);
    if (existing) return existing;
    const run = work().finally(() => this.running.delete(key));
    this.running.set(key, run);
    return run;
  }

  private oneAtATime<T>(work: () => Promise<T>): Promise<T> {
    const next = this.exclusive.then(work, work);
    this.exclusive = next.catch(() => undefined);
    return next;
  }

  private async runDeploy(job: DeployJob__Output): Promise<JobAnswer> {
    const { deployId } = job;
    const answer = (output: DeployOutput): JobAnswer => ({ ...judgeDeploy(output), deploy: output });
    try {
      new DeployJournal(this.config.stateDir).dirOf(deployId);
    } catch (err) {
      if (err instanceof JournalError) return answer(refusedOutput(deployId, 'options', err.message));
      throw err;
    }
    const earlier = await loadDeployRecord<DeployOutput>(this.config.stateDir, deployId);
    if (earlier) {
      this.log.info({ deployId, status: earlier.status }, 'deploy id already handled: answering with the stored result');
      return answer({ ...earlier, repeated: true });
    }
    const env = await createDeployEnvironment(this.config.deploy, this.log);
    let targets: DeployTarget[];
    let keyPem: string;
    try {
      targets = await this.buildTargets(job, env);
      // A key shared from another host arrives sealed to this agent; it goes to the key store first.
      if (job.encryptedKey) {
        await importSharedKey(this.config.stateDir, job.encryptedKey, job.keyId, job.certificatePem).catch((err: Error) => {
          throw new Refused('key', err.message);
        });
      }
      keyPem = await loadKey(this.config.stateDir, job.keyId).catch((err: NodeJS.ErrnoException) => {
        throw new Refused('key', err.code === 'ENOENT' ? `the agent's key store has no key "${job.keyId}"` : err.message);
      });
    } catch (err) {
      if (!(err instanceof Refused)) throw err;
      this.log.warn({ deployId, problem: err.problem, reason: err.message }, 'deploy refused');
      return answer(refusedOutput(deployId, err.problem, err.message));
    }
    const result = await deploy(targets, {
      certificatePem: job.certificatePem, chainPem: job.chainPem, keyPem, pkcs12Password: job.pkcs12Password || undefined,
    }, {
      env, stateDir: this.config.stateDir, deployId, endpoints: job.endpoints.map(toEndpoint), caRoots: pemBlocks(job.trustedRootsPem),
      rollbackOnFailure: job.rollbackOnFailure, signal: AbortSignal.timeout(DEPLOY_TIMEOUT_MS),
    });
    const output = deployOutput(result);
    // Refusals changed nothing and wrote no journal: the same id may be tried again once the cause is fixed.
    if (result.status !== 'refused' && result.status !== 'duplicate') await saveDeployRecord(this.config.stateDir, deployId, output);
    return answer(output);
  }

  private async buildTargets(job: DeployJob__Output, env: DeployEnvironment): Promise<DeployTarget[]> {
    if (this.config.deploy.allowedPaths.length === 0) throw new Refused('off', 'deployment is off on this agent (its deploy.allowedPaths is empty)');
    if (job.targets.length === 0) throw new Refused('options', 'a deploy needs at least one target');
    const targets: DeployTarget[] = [];
    for (const [index, spec] of job.targets.entries()) {
      let options: unknown;
      try {
        options = JSON.parse(spec.optionsJson || '{}');
      } catch (err) {
        throw new Refused('options', `target ${index}: options are not JSON (${(err as Error).message})`);
      }
      if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new Refused('options', `target ${index}: options must be a JSON object`);
      const kind = (options as { kind?: unknown }).kind ?? spec.kind;
      if (kind !== spec.kind) throw new Refused('options', `target ${index}: options say kind "${String(kind)}", the target says "${spec.kind}"`);
      try {
        targets.push(await createDeployTarget({ ...options, kind } as TargetOptions, env));
      } catch (err) {
        throw new Refused(refusalProblem(err), `target ${index} (${spec.kind}): ${(err as Error).message}`);
      }
    }
    return targets;
  }

  private async runRollback(job: RollbackJob__Output): Promise<JobAnswer> {
    const env = await createDeployEnvironment(this.config.deploy, this.log);
    const result = await rollbackDeploy({
      stateDir: this.config.stateDir, env, deployId: job.deployId, endpoints: job.endpoints.map(toEndpoint),
      expectedFingerprint256: job.expectedFingerprintSha256 ? colonFingerprint(job.expectedFingerprintSha256) : null,
      signal: AbortSignal.timeout(DEPLOY_TIMEOUT_MS),
    });
    const output = rollbackOutput(job.deployId, result);
    return { ok: output.ok ?? false, error: output.ok ? '' : `${output.status}: ${output.reason}`, rollback: output };
  }
}
