// The deploy library's results as the contract's outputs (DeployOutput, ValidateOutput, RollbackOutput).
// Fingerprints cross the wire as lowercase hex of SHA-256, the controller's form; the library speaks
// Node's "AB:CD:..." form. Nothing here carries key material: results name files, never their contents.
import type { DeployOutput } from '../../../proto/generated/certflow/agent/v1/DeployOutput.js';
import type { EndpointCheck } from '../../../proto/generated/certflow/agent/v1/EndpointCheck.js';
import type { RecoveryOutcome } from '../../../proto/generated/certflow/agent/v1/RecoveryOutcome.js';
import type { RollbackOutput } from '../../../proto/generated/certflow/agent/v1/RollbackOutput.js';
import type { TlsEndpoint } from '../../../proto/generated/certflow/agent/v1/TlsEndpoint.js';
import type { DeployResult } from '../deploy/deploy.js';
import type { RecoveredDeploy } from '../deploy/recover-interrupted.js';
import type { RollbackReport } from '../deploy/rollback.js';
import type { RollbackDeployResult } from '../deploy/rollback-deploy.js';
import type { Endpoint, EndpointValidation } from '../deploy/validate.js';

export class FingerprintFormatError extends Error {
  override name = 'FingerprintFormatError';
}

/** "AB:CD:..." → "abcd..."; "" for none. */
export function hexFingerprint(fingerprint256: string | null | undefined): string {
  return fingerprint256 ? fingerprint256.replaceAll(':', '').toLowerCase() : '';
}

/** Hex (with or without colons, any case) → Node's "AB:CD:..." form. */
export function colonFingerprint(hex: string): string {
  const plain = hex.replaceAll(':', '').toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(plain)) throw new FingerprintFormatError(`"${hex}" is not a SHA-256 fingerprint (64 hex digits)`);
  return plain.match(/../g)!.join(':');
}

export function toEndpoint(e: { host: string; port: number; serverName: string }): Endpoint {
  return { host: e.host, port: e.port, serverName: e.serverName || e.host };
}

const tlsEndpoint = (e: Endpoint): TlsEndpoint => ({ host: e.host, port: e.port, serverName: e.serverName });

export function endpointCheck(v: EndpointValidation): EndpointCheck {
  return {
    endpoint: tlsEndpoint(v.endpoint), ok: v.ok, failure: v.failure ?? '', reason: v.reason ?? '',
    servedFingerprintSha256: hexFingerprint(v.servedFingerprint256), attempts: v.attempts, ms: v.ms,
  };
}

export function rollbackReportOutput(deployId: string, status: string, report: RollbackReport): RollbackOutput {
  return {
    deployId, status, ok: report.ok, reason: report.reason ?? '',
    restoredFiles: report.restoredFiles, restoreFailures: report.restoreFailures, reloads: report.reloads.map((r) => ({ ...r, error: r.error ?? '' })),
    validations: report.validations.map(endpointCheck), notCheckedEndpoints: report.notCheckedEndpoints.map(tlsEndpoint), steps: report.steps,
  };
}

export function rollbackOutput(deployId: string, result: RollbackDeployResult): RollbackOutput {
  if ('report' in result) return rollbackReportOutput(deployId, result.status, result.report);
  return { deployId, status: result.status, ok: result.status !== 'refused', reason: result.reason };
}

/** A deploy refused before the library ran (options, paths, commands, key store, deployment off). */
export function refusedOutput(deployId: string, problem: string, reason: string): DeployOutput {
  return { deployId, status: 'refused', failedStep: 'check', problem, reason };
}

export function deployOutput(result: DeployResult): DeployOutput {
  const common: DeployOutput = {
    deployId: result.deployId, status: result.status, fingerprintSha256: hexFingerprint(result.fingerprint256), steps: result.steps,
    totalMs: result.totalMs, rolledBack: false, repeated: false,
    targets: result.targets.map((t) => ({ targetId: t.targetId, kind: t.kind, changedFiles: t.changedFiles, unchangedFiles: t.unchangedFiles })),
  };
  switch (result.status) {
    case 'deployed':
      return { ...common, validations: result.validations.map(endpointCheck) };
    case 'refused':
      return { ...common, failedStep: result.failedStep, problem: result.problem, reason: result.reason };
    case 'failed':
      return { ...common, failedStep: result.failedStep, reason: result.reason };
    case 'validation-failed':
      return { ...common, failedStep: result.failedStep, reason: result.reason, validations: result.validations.map(endpointCheck) };
    case 'rolled-back':
    case 'rollback-failed':
      return {
        ...common, failedStep: result.failedStep, reason: result.reason, validations: result.validations.map(endpointCheck),
        rolledBack: result.status === 'rolled-back', rollback: rollbackReportOutput(result.deployId, result.status, result.rollback),
      };
    case 'duplicate':
      return { ...common, previousState: result.previousState };
  }
}

/** What recovery at agent start did with a deploy a crash interrupted, as that deploy's answer. */
export function recoveredOutput(recovered: RecoveredDeploy): DeployOutput {
  const reverted = recovered.action === 'reverted';
  return {
    deployId: recovered.deployId, status: 'recovered', rolledBack: reverted && recovered.problems.length === 0,
    reason: `the agent restarted during this deploy; at start it ${reverted ? 'reverted it (the backups are back)' : 'completed it (every new file in place, config tests pass; endpoints not validated)'}: ${recovered.why}`,
    recovery: recoveredOutcome(recovered),
  };
}

function recoveredOutcome(r: RecoveredDeploy): RecoveryOutcome {
  return { action: r.action, why: r.why, files: r.files, reloads: r.reloads.map((x) => ({ ...x, error: x.error ?? '' })), problems: r.problems };
}

/** Whether a deploy did what was asked (in place and proven), and if not, the job's error text. */
export function judgeDeploy(output: DeployOutput): { ok: boolean; error: string } {
  if (output.status === 'deployed') return { ok: true, error: '' };
  if (output.status === 'duplicate') {
    return output.previousState === 'done'
      ? { ok: true, error: '' }
      : { ok: false, error: `deploy ${output.deployId} was handled before (journal state ${output.previousState}); not applied again` };
  }
  const rollback = output.rollback ? (output.rolledBack ? '; rolled back, the old certificate is served again' : `; ROLLBACK FAILED: ${output.rollback.reason}`) : '';
  return { ok: false, error: `${output.status}: ${output.reason ?? ''}${rollback}` };
}
