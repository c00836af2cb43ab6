// A PKCS#12 keystore (Tomcat, Java, Windows-style consumers): key, leaf and intermediates in one file,
// encrypted with a password that comes with the material (from an encrypted controller secret).
//
// Made with `openssl pkcs12 -export` rather than node-forge: forge cannot handle EC keys, and one code path
// for RSA and EC is simpler to trust. The PEM goes in on stdin and the password on fd 3, so neither the key
// nor the password ever touches argv or a temporary file; the keystore comes back on stdout.
import { z } from 'zod';
import { runProgram } from './commands.js';
import {
  absolutePathSchema, commonTargetOptions, fileModeSchema, parseTargetOptions, type DeployEnvironment, type DeployTarget,
} from './deploy-target.js';
import { ownerSchema } from './file-target.js';
import { resolveOwnership } from './file-owner.js';
import { MaterialRefusedError } from './material-check.js';
import { chainPem, keyPem, leafPem } from './pem-bundle.js';
import { requireAllowedCommands, requireWritablePaths } from './target-support.js';

export const pkcs12TargetOptionsSchema = z.strictObject({
  kind: z.literal('pkcs12'),
  path: absolutePathSchema,
  /** The key entry's friendly name, which Java calls the alias (Tomcat's certificateKeyAlias). */
  alias: z.string().min(1).max(128).optional(),
  owner: ownerSchema.optional(),
  group: ownerSchema.optional(),
  /** When absent an existing keystore keeps its mode, a new one gets 0600. */
  mode: fileModeSchema.optional(),
  /** SHA-1/3DES instead of OpenSSL 3's AES-256/PBKDF2, for Java older than 8u301. */
  legacyAlgorithms: z.boolean().default(false),
  ...commonTargetOptions,
});

export type Pkcs12TargetOptions = z.input<typeof pkcs12TargetOptionsSchema>;

const MAX_KEYSTORE_BYTES = 1024 * 1024;

export async function createPkcs12Target(input: Pkcs12TargetOptions, env: DeployEnvironment): Promise<DeployTarget> {
  const options = parseTargetOptions('pkcs12', pkcs12TargetOptionsSchema, input);
  requireAllowedCommands('pkcs12', env, { testCommand: options.testCommand, reloadCommand: options.reloadCommand });
  await requireWritablePaths(env, [options.path]);
  const ownership = await resolveOwnership(options.owner, options.group);
  const args = ['pkcs12', '-export', '-passout', 'fd:3', ...(options.alias ? ['-name', options.alias] : []),
    ...(options.legacyAlgorithms ? ['-certpbe', 'PBE-SHA1-3DES', '-keypbe', 'PBE-SHA1-3DES', '-macalg', 'sha1'] : [])];
  const target: DeployTarget = {
    kind: 'pkcs12',
    id: `pkcs12 ${options.path}`,
    expectedNames: Object.freeze([...options.expectedNames]),
    options: Object.freeze(options),
    async plan(material, signal) {
      if (!material.pkcs12Password) throw new MaterialRefusedError('missing-password', `the PKCS#12 keystore ${options.path} needs a password and none was given`);
      const { stdout } = await runProgram(env.binaries.openssl, args, {
        signal,
        limits: env.limits,
        stdin: Buffer.from(keyPem(material) + leafPem(material) + chainPem(material)),
        secretOnFd3: material.pkcs12Password,
        collectStdoutBytes: MAX_KEYSTORE_BYTES,
      });
      return [{ path: options.path, content: stdout!, secret: true, mode: options.mode, ...ownership }];
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
