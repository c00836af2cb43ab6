// HAProxy: one combined PEM per certificate (leaf, intermediates, key), found through one of the three ways
// a bind names it: `crt FILE`, `crt DIRECTORY` (a file in it), or `crt-list LIST` (the file on the list's
// line for these names). Config test `haproxy -c -f CONF`; reload by SIGUSR2 to the master-worker master
// (whose pid file is given) or an allowlisted command (e.g. systemctl reload haproxy).
import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { resolveReadablePath, resolveWritableDirectory } from './allowed-paths.js';
import {
  absolutePathSchema, commonTargetOptions, parseTargetOptions, TargetOptionsError, type DeployEnvironment, type DeployTarget,
} from './deploy-target.js';
import { combinedPem } from './pem-bundle.js';
import { requireAllowedCommands, requireWritablePaths, runNamedOrProgram, verifiedPid } from './target-support.js';

const locationSchema = z.discriminatedUnion('form', [
  z.strictObject({ form: z.literal('file'), path: absolutePathSchema }),
  z.strictObject({
    form: z.literal('directory'),
    directory: absolutePathSchema,
    /** The file in the directory; by default the first expected name + ".pem" ("*" spelled "wildcard"). */
    fileName: z.string().regex(/^[^/\0]+$/).refine((n) => n !== '.' && n !== '..').optional(),
  }),
  z.strictObject({
    form: z.literal('crt-list'),
    crtList: absolutePathSchema,
    /** The global crt-base, which relative paths on the list are relative to. */
    crtBase: absolutePathSchema.optional(),
    /** The certificate as the list spells it; by default the line whose SNI filters name an expected name. */
    entry: z.string().min(1).optional(),
  }),
]);

export const haproxyTargetOptionsSchema = z.strictObject({
  kind: z.literal('haproxy'),
  configFile: absolutePathSchema,
  location: locationSchema,
  /** The master's pid file (haproxy -W ... -p FILE, or `pidfile` in global): reload is SIGUSR2 to it. */
  masterPidFile: absolutePathSchema.optional(),
  ...commonTargetOptions,
}).refine((o) => o.masterPidFile !== undefined || o.reloadCommand !== undefined, {
  message: 'either masterPidFile or reloadCommand is needed to reload HAProxy', path: ['reloadCommand'],
});

export type HaproxyTargetOptions = z.input<typeof haproxyTargetOptionsSchema>;

interface CrtListLine {
  certificate: string;
  filters: string[];
}

export function parseCrtList(text: string): CrtListLine[] {
  return text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')).map((line) => {
    const [certificate, ...rest] = line.split(/\s+/);
    // Bind options in [brackets] come between the file and the SNI filters, and may contain spaces.
    const filters = rest.join(' ').replace(/^\[[^\]]*\]\s*/, '').split(/\s+/).filter(Boolean);
    return { certificate, filters };
  });
}

function chooseCrtListLine(lines: CrtListLine[], names: readonly string[], entry: string | undefined, crtList: string): CrtListLine {
  if (entry !== undefined) {
    const line = lines.find((l) => l.certificate === entry);
    if (!line) throw new TargetOptionsError(`haproxy target: ${crtList} has no line for "${entry}"`);
    return line;
  }
  const wanted = new Set(names.map((n) => n.toLowerCase()));
  const line = lines.find((l) => l.filters.some((f) => wanted.has(f.toLowerCase())));
  if (line) return line;
  if (lines.length === 1) return lines[0];
  throw new TargetOptionsError(`haproxy target: no line of ${crtList} filters on ${names.join(', ') || '(no expected names)'}; set location.entry`);
}

async function certificatePathFor(options: z.infer<typeof haproxyTargetOptionsSchema>, env: DeployEnvironment): Promise<string> {
  const location = options.location;
  if (location.form === 'file') return location.path;
  if (location.form === 'directory') {
    const directory = await resolveWritableDirectory(location.directory, env.allowedRoots);
    const first = options.expectedNames[0];
    if (location.fileName === undefined && first === undefined) {
      throw new TargetOptionsError('haproxy target: the directory form needs location.fileName or an expected name');
    }
    return join(directory, location.fileName ?? `${first.replace(/^\*/, 'wildcard')}.pem`);
  }
  const crtList = await resolveReadablePath(location.crtList, env.allowedRoots, env.serviceConfigFiles);
  const line = chooseCrtListLine(parseCrtList(await readFile(crtList, 'utf8')), options.expectedNames, location.entry, crtList);
  if (isAbsolute(line.certificate)) return line.certificate;
  if (location.crtBase === undefined) {
    throw new TargetOptionsError(`haproxy target: ${crtList} names the relative "${line.certificate}": set location.crtBase`);
  }
  return join(location.crtBase, line.certificate);
}

/** SIGUSR2 to the master, after making sure the pid file names a running haproxy and not some other process. */
async function signalMaster(pidFile: string, binary: string): Promise<void> {
  const pid = await verifiedPid(pidFile, [binary]);
  if (pid === null) throw new Error(`${pidFile} does not exist: is HAProxy running?`);
  process.kill(pid, 'SIGUSR2');
}

export async function createHaproxyTarget(input: HaproxyTargetOptions, env: DeployEnvironment): Promise<DeployTarget> {
  const options = parseTargetOptions('haproxy', haproxyTargetOptionsSchema, input);
  requireAllowedCommands('haproxy', env, { testCommand: options.testCommand, reloadCommand: options.reloadCommand });
  const configFile = await resolveReadablePath(options.configFile, env.allowedRoots, env.serviceConfigFiles);
  const certificatePath = await certificatePathFor(options, env);
  await requireWritablePaths(env, [certificatePath]);
  const target: DeployTarget = {
    kind: 'haproxy',
    id: `haproxy ${configFile} ${certificatePath}`,
    expectedNames: Object.freeze([...options.expectedNames]),
    options: Object.freeze(options),
    plan: async (material) => [{ path: certificatePath, content: Buffer.from(combinedPem(material)), secret: true }],
    test: (signal) => runNamedOrProgram(env, options.testCommand, { file: env.binaries.haproxy, args: ['-c', '-f', configFile] }, signal),
    async reload(signal) {
      // The schema guarantees one of the two.
      if (options.reloadCommand !== undefined) await env.commands.run(options.reloadCommand, signal);
      else await signalMaster(options.masterPidFile!, env.binaries.haproxy);
    },
  };
  return Object.freeze(target);
}
