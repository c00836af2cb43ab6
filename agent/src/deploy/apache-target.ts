// Apache httpd: SSLCertificateFile, SSLCertificateKeyFile and SSLCertificateChainFile. Without a chain file
// the certificate file gets the full chain (httpd ≥ 2.4.8 reads intermediates from it); without a key file
// the key goes into the certificate file too. Config test `apache2 -t`, reload `apache2 -k graceful` (what
// apache2ctl configtest / graceful run), both with the Debian envvars apache2.conf expects, as the agent's
// own config sets them.
import { z } from 'zod';
import { resolveReadablePath } from './allowed-paths.js';
import {
  absolutePathSchema, commonTargetOptions, parseTargetOptions, type DeployEnvironment, type DeployTarget, type PlannedWrite,
} from './deploy-target.js';
import { chainPem, fullChainPem, keyPem, leafPem } from './pem-bundle.js';
import {
  requireAllowedCommands, requireWritablePaths, resolveServiceDirectory, runNamedOrProgram, samePath, verifiedPid,
} from './target-support.js';

/** What /etc/apache2/envvars exports on Debian; apache2.conf refers to these and httpd refuses it without them. */
export const DEBIAN_APACHE_ENV: Readonly<Record<string, string>> = Object.freeze({
  APACHE_RUN_USER: 'www-data',
  APACHE_RUN_GROUP: 'www-data',
  APACHE_PID_FILE: '/var/run/apache2/apache2.pid',
  APACHE_RUN_DIR: '/var/run/apache2',
  APACHE_LOCK_DIR: '/var/lock/apache2',
  APACHE_LOG_DIR: '/var/log/apache2',
});

export const apacheTargetOptionsSchema = z.strictObject({
  kind: z.literal('apache'),
  /** The main config (-f). */
  configFile: absolutePathSchema,
  /** ServerRoot (-d), when relative paths in the config need it: the config's directory or inside allowedPaths. */
  serverRoot: absolutePathSchema.optional(),
  certificatePath: absolutePathSchema,
  keyPath: absolutePathSchema.optional(),
  chainPath: absolutePathSchema.optional(),
  ...commonTargetOptions,
}).refine((o) => !samePath(o.chainPath, o.certificatePath) && !samePath(o.chainPath, o.keyPath), {
  message: 'chainPath must be a file of its own', path: ['chainPath'],
});

export type ApacheTargetOptions = z.input<typeof apacheTargetOptionsSchema>;

export async function createApacheTarget(input: ApacheTargetOptions, env: DeployEnvironment): Promise<DeployTarget> {
  const options = parseTargetOptions('apache', apacheTargetOptionsSchema, input);
  requireAllowedCommands('apache', env, { testCommand: options.testCommand, reloadCommand: options.reloadCommand });
  const configFile = await resolveReadablePath(options.configFile, env.allowedRoots, env.serviceConfigFiles);
  await requireWritablePaths(env, [options.certificatePath, options.keyPath, options.chainPath]);
  const serverRoot = options.serverRoot === undefined ? undefined : await resolveServiceDirectory(options.serverRoot, configFile, env.allowedRoots);
  const scope = [...(serverRoot ? ['-d', serverRoot] : []), '-f', configFile];
  const programEnv = { ...(env.apacheEnvironment ?? DEBIAN_APACHE_ENV) };
  const keyInCertificate = options.keyPath === undefined || samePath(options.keyPath, options.certificatePath);
  const target: DeployTarget = {
    kind: 'apache',
    id: `apache ${configFile} ${options.certificatePath}`,
    expectedNames: Object.freeze([...options.expectedNames]),
    options: Object.freeze(options),
    async plan(material): Promise<PlannedWrite[]> {
      const certificate = options.chainPath ? leafPem(material) : fullChainPem(material);
      const writes: PlannedWrite[] = [{
        path: options.certificatePath,
        content: Buffer.from(keyInCertificate ? certificate + keyPem(material) : certificate),
        secret: keyInCertificate,
      }];
      if (!keyInCertificate) writes.push({ path: options.keyPath!, content: Buffer.from(keyPem(material)), secret: true });
      if (options.chainPath) writes.push({ path: options.chainPath, content: Buffer.from(chainPem(material)), secret: false });
      return writes;
    },
    test: (signal) => runNamedOrProgram(env, options.testCommand, { file: env.binaries.apache2, args: ['-t', ...scope], env: programEnv }, signal),
    async reload(signal) {
      if (options.reloadCommand === undefined && programEnv.APACHE_PID_FILE) {
        await verifiedPid(programEnv.APACHE_PID_FILE, [env.binaries.apache2, 'apache2', 'httpd']);
      }
      await runNamedOrProgram(env, options.reloadCommand, { file: env.binaries.apache2, args: ['-k', 'graceful', ...scope], env: programEnv }, signal);
    },
  };
  return Object.freeze(target);
}
