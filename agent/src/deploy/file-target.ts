// Plain files, for software that reads PEM files and is reloaded some other way: any of the certificate,
// chain, full chain and key paths, with owner, group and mode, and optionally an allowlisted test and
// reload command (e.g. "reload-postfix" → postfix reload).
import { z } from 'zod';
import {
  absolutePathSchema, commonTargetOptions, fileModeSchema, parseTargetOptions, type DeployEnvironment, type DeployTarget,
  type PlannedWrite,
} from './deploy-target.js';
import { resolveOwnership } from './file-owner.js';
import { chainPem, fullChainPem, keyPem, leafPem } from './pem-bundle.js';
import { requireAllowedCommands, requireWritablePaths } from './target-support.js';

export const ownerSchema = z.union([z.string().min(1), z.number().int().min(0)]);

export const fileTargetOptionsSchema = z.strictObject({
  kind: z.literal('file'),
  /** The leaf alone. */
  certificatePath: absolutePathSchema.optional(),
  /** The intermediates alone. */
  chainPath: absolutePathSchema.optional(),
  /** Leaf then intermediates. */
  fullChainPath: absolutePathSchema.optional(),
  keyPath: absolutePathSchema.optional(),
  /** Name or id; when absent an existing file keeps its owner, a new one belongs to the agent. */
  owner: ownerSchema.optional(),
  group: ownerSchema.optional(),
  /** Mode of the certificate, chain and full chain files; when absent an existing file keeps its own, a new one gets 0644. */
  mode: fileModeSchema.optional(),
  /** Mode of the key file; when absent an existing file keeps its own, a new one gets 0600. */
  keyMode: fileModeSchema.optional(),
  ...commonTargetOptions,
}).superRefine((o, ctx) => {
  const paths = [o.certificatePath, o.chainPath, o.fullChainPath, o.keyPath].filter((p): p is string => p !== undefined);
  if (paths.length === 0) ctx.addIssue({ code: 'custom', message: 'name at least one of certificatePath, chainPath, fullChainPath, keyPath' });
  if (new Set(paths).size !== paths.length) ctx.addIssue({ code: 'custom', message: 'each file needs a path of its own' });
});

export type FileTargetOptions = z.input<typeof fileTargetOptionsSchema>;

export async function createFileTarget(input: FileTargetOptions, env: DeployEnvironment): Promise<DeployTarget> {
  const options = parseTargetOptions('file', fileTargetOptionsSchema, input);
  requireAllowedCommands('file', env, { testCommand: options.testCommand, reloadCommand: options.reloadCommand });
  await requireWritablePaths(env, [options.certificatePath, options.chainPath, options.fullChainPath, options.keyPath]);
  const ownership = await resolveOwnership(options.owner, options.group);
  const first = options.fullChainPath ?? options.certificatePath ?? options.keyPath ?? options.chainPath;
  const target: DeployTarget = {
    kind: 'file',
    id: `file ${first}`,
    expectedNames: Object.freeze([...options.expectedNames]),
    options: Object.freeze(options),
    async plan(material) {
      const writes: PlannedWrite[] = [];
      const add = (path: string | undefined, content: string, secret: boolean) => {
        if (path !== undefined) writes.push({ path, content: Buffer.from(content), secret, mode: secret ? options.keyMode : options.mode, ...ownership });
      };
      add(options.certificatePath, leafPem(material), false);
      add(options.chainPath, chainPem(material), false);
      add(options.fullChainPath, fullChainPem(material), false);
      add(options.keyPath, keyPem(material), true);
      return writes;
    },
    async test(signal) {
      if (options.testCommand !== undefined) await env.commands.run(options.testCommand, signal);
    },
    async reload(signal) {
      if (options.reloadCommand !== undefined) await env.commands.run(options.reloadCommand, signal);
    },
  };
  return Object.freeze(target);
}
