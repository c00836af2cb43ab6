// Builds a DeployTarget from its options (as a template or discovery describes it), checked against its
// kind's schema and the agent's own allowedPaths and command allowlist before anything else happens.
import { z } from 'zod';
import { apacheTargetOptionsSchema, createApacheTarget } from './apache-target.js';
import { TargetOptionsError, type DeployEnvironment, type DeployTarget } from './deploy-target.js';
import { createFileTarget, fileTargetOptionsSchema } from './file-target.js';
import { createHaproxyTarget, haproxyTargetOptionsSchema } from './haproxy-target.js';
import { createNginxTarget, nginxTargetOptionsSchema } from './nginx-target.js';
import { createPkcs12Target, pkcs12TargetOptionsSchema } from './pkcs12-target.js';

export const targetOptionsSchemas = {
  nginx: nginxTargetOptionsSchema,
  apache: apacheTargetOptionsSchema,
  haproxy: haproxyTargetOptionsSchema,
  file: fileTargetOptionsSchema,
  pkcs12: pkcs12TargetOptionsSchema,
} as const;

export type TargetOptions =
  | z.input<typeof nginxTargetOptionsSchema>
  | z.input<typeof apacheTargetOptionsSchema>
  | z.input<typeof haproxyTargetOptionsSchema>
  | z.input<typeof fileTargetOptionsSchema>
  | z.input<typeof pkcs12TargetOptionsSchema>;

export async function createDeployTarget(options: TargetOptions, env: DeployEnvironment): Promise<DeployTarget> {
  switch (options?.kind) {
    case 'nginx': return createNginxTarget(options, env);
    case 'apache': return createApacheTarget(options, env);
    case 'haproxy': return createHaproxyTarget(options, env);
    case 'file': return createFileTarget(options, env);
    case 'pkcs12': return createPkcs12Target(options, env);
    default: throw new TargetOptionsError(`unknown target kind "${String((options as { kind?: unknown })?.kind)}" (expected one of ${Object.keys(targetOptionsSchemas).join(', ')})`);
  }
}
