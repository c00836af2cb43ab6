// nginx: the full chain (leaf first) in ssl_certificate's file, the key in ssl_certificate_key's file.
// Config test `nginx -t -c CONF [-p PREFIX]`; reload `nginx -s reload -c CONF [-p PREFIX]`, which signals the
// master whose pid the config names, or an allowlisted command (e.g. systemctl reload nginx).
import { z } from 'zod';
import { resolveReadablePath } from './allowed-paths.js';
import {
  absolutePathSchema, commonTargetOptions, parseTargetOptions, type DeployEnvironment, type DeployTarget, type PlannedWrite,
} from './deploy-target.js';
import { fullChainPem, keyPem } from './pem-bundle.js';
import { requireAllowedCommands, requireWritablePaths, resolveServiceDirectory, runNamedOrProgram, samePath } from './target-support.js';

export const nginxTargetOptionsSchema = z.strictObject({
  kind: z.literal('nginx'),
  /** The main config, as nginx is started with (-c). */
  configFile: absolutePathSchema,
  /** nginx's -p prefix, when the service is started with one: the config's directory or inside allowedPaths. */
  prefix: absolutePathSchema.optional(),
  /** ssl_certificate's file: receives the leaf followed by the intermediates. */
  certificatePath: absolutePathSchema,
  /** ssl_certificate_key's file; the same path as certificatePath for a combined file. */
  keyPath: absolutePathSchema,
  ...commonTargetOptions,
});

export type NginxTargetOptions = z.input<typeof nginxTargetOptionsSchema>;

export async function createNginxTarget(input: NginxTargetOptions, env: DeployEnvironment): Promise<DeployTarget> {
  const options = parseTargetOptions('nginx', nginxTargetOptionsSchema, input);
  requireAllowedCommands('nginx', env, { testCommand: options.testCommand, reloadCommand: options.reloadCommand });
  const configFile = await resolveReadablePath(options.configFile, env.allowedRoots, env.serviceConfigFiles);
  await requireWritablePaths(env, [options.certificatePath, options.keyPath]);
  const prefix = options.prefix === undefined ? undefined : await resolveServiceDirectory(options.prefix, configFile, env.allowedRoots);
  const scope = ['-c', configFile, ...(prefix ? ['-p', prefix] : [])];
  const target: DeployTarget = {
    kind: 'nginx',
    id: `nginx ${configFile} ${options.certificatePath}`,
    expectedNames: Object.freeze([...options.expectedNames]),
    options: Object.freeze(options),
    async plan(material): Promise<PlannedWrite[]> {
      if (samePath(options.certificatePath, options.keyPath)) {
        return [{ path: options.certificatePath, content: Buffer.from(fullChainPem(material) + keyPem(material)), secret: true }];
      }
      return [
        { path: options.certificatePath, content: Buffer.from(fullChainPem(material)), secret: false },
        { path: options.keyPath, content: Buffer.from(keyPem(material)), secret: true },
      ];
    },
    test: (signal) => runNamedOrProgram(env, options.testCommand, { file: env.binaries.nginx, args: ['-t', ...scope] }, signal),
    reload: (signal) => runNamedOrProgram(env, options.reloadCommand, { file: env.binaries.nginx, args: ['-s', 'reload', ...scope] }, signal),
  };
  return Object.freeze(target);
}
