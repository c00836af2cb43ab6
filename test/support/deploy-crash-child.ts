// A stand-in for the agent process in crash tests: `deploy SPEC` runs one deploy and, when
// CERTFLOW_TEST_DEPLOY_STOP_AT names one of the deploy's points ("journal-written", "swapped:1", ...),
// prints "paused at POINT" there and waits to be killed; `recover SPEC` does what an agent does on start
// and prints the recovery as JSON. SPEC is a JSON file holding the agent's settings, the targets and the
// material. Reading the environment is fine here: this is a test harness, not the agent.
import { readFile } from 'node:fs/promises';
import { pino } from 'pino';
import { resolveAllowedRoots } from '../../agent/src/deploy/allowed-paths.js';
import { createCommandRunner, DEFAULT_COMMAND_LIMITS } from '../../agent/src/deploy/commands.js';
import { createDeployTarget, type TargetOptions } from '../../agent/src/deploy/create-target.js';
import { DEFAULT_SERVICE_BINARIES, type DeployEnvironment, type DeployMaterial } from '../../agent/src/deploy/deploy-target.js';
import { deploy } from '../../agent/src/deploy/deploy.js';
import { recoverInterruptedDeploys } from '../../agent/src/deploy/recover-interrupted.js';
import type { Endpoint } from '../../agent/src/deploy/validate.js';

export interface CrashSpec {
  stateDir: string;
  allowedPaths: string[];
  serviceConfigFiles: string[];
  targets: TargetOptions[];
  material: DeployMaterial;
  endpoints: Endpoint[];
  caRoots: string[];
  commands: Record<string, string[]>;
}

const [mode, specFile] = process.argv.slice(2);
const spec = JSON.parse(await readFile(specFile, 'utf8')) as CrashSpec;
const env: DeployEnvironment = {
  allowedRoots: await resolveAllowedRoots(spec.allowedPaths),
  serviceConfigFiles: spec.serviceConfigFiles,
  commands: createCommandRunner(spec.commands),
  limits: DEFAULT_COMMAND_LIMITS,
  binaries: DEFAULT_SERVICE_BINARIES,
  log: pino({ level: process.env.CERTFLOW_TEST_LOG ?? 'silent' }, pino.destination(2)),
};
const signal = AbortSignal.timeout(60_000);

if (mode === 'recover') {
  const recovered = await recoverInterruptedDeploys({ stateDir: spec.stateDir, env, signal });
  console.log(`RESULT ${JSON.stringify(recovered)}`);
} else {
  const stopAt = process.env.CERTFLOW_TEST_DEPLOY_STOP_AT;
  const targets = await Promise.all(spec.targets.map((t) => createDeployTarget(t, env)));
  const result = await deploy(targets, spec.material, {
    env, stateDir: spec.stateDir, endpoints: spec.endpoints, caRoots: spec.caRoots, signal,
    onPoint: async (point) => {
      if (point !== stopAt) return;
      console.log(`paused at ${point}`);
      await new Promise(() => undefined); // until SIGKILL
    },
  });
  console.log(`RESULT ${JSON.stringify({ status: result.status })}`);
}
