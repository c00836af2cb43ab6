// Builds what deployments may do on this host from the agent's own config — the only source of allowed
// paths and runnable commands — and, at start, finishes or reverts any deploy a crash interrupted.
import type { Logger } from 'pino';
import type { AgentConfig } from '../config.js';
import { resolveAllowedRoots } from './allowed-paths.js';
import { createCommandRunner } from './commands.js';
import type { DeployEnvironment } from './deploy-target.js';
import { recoverInterruptedDeploys, type RecoveredDeploy } from './recover-interrupted.js';

export async function createDeployEnvironment(config: AgentConfig['deploy'], log: Logger): Promise<DeployEnvironment> {
  const limits = { timeoutMs: config.commandTimeoutMs, maxOutputBytes: config.commandOutputBytes };
  return {
    allowedRoots: await resolveAllowedRoots(config.allowedPaths),
    serviceConfigFiles: config.serviceConfigFiles,
    commands: createCommandRunner(config.commands, limits),
    limits,
    binaries: config.binaries,
    apacheEnvironment: config.apacheEnvironment,
    log: log.child({ component: 'deploy' }),
  };
}

/** Run before the agent takes any job: leaves every file of an interrupted deploy all-old or all-new. */
export async function recoverDeploysAtStart(config: AgentConfig, log: Logger, signal: AbortSignal): Promise<RecoveredDeploy[]> {
  const env = await createDeployEnvironment(config.deploy, log);
  return recoverInterruptedDeploys({ stateDir: config.stateDir, env, signal });
}
