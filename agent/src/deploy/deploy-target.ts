// A deploy target is one place a certificate goes on this host: an nginx, Apache or HAProxy service, a set
// of plain files, a PKCS#12 keystore. A target only *plans* its files (the deploy writes them, so every kind
// gets the same path checks, backups, journal and atomic swap), tests its service's config and reloads it.
import { z } from 'zod';
import type { Logger } from 'pino';
import type { CommandLimits, CommandRunner } from './commands.js';

/** The renewed certificate as the controller hands it over; the key never left this host. */
export interface DeployMaterial {
  /** The leaf certificate alone. */
  certificatePem: string;
  /** The intermediates, leaf's issuer first; may be empty. */
  chainPem: string;
  keyPem: string;
  /** Only PKCS#12 targets use it; it comes from an encrypted controller secret and is never logged. */
  pkcs12Password?: string;
}

export type TargetKind = 'nginx' | 'apache' | 'haproxy' | 'file' | 'pkcs12';

/** One file a target wants in place. */
export interface PlannedWrite {
  /** As configured; the deploy resolves and checks it again, as a real path, before writing. */
  path: string;
  content: Buffer;
  /** Holds the private key: a new file defaults to 0600 instead of 0644. */
  secret: boolean;
  /** Explicit attributes; when absent an existing file keeps its own. */
  mode?: number;
  uid?: number;
  gid?: number;
}

export interface DeployTarget {
  readonly kind: TargetKind;
  /** Names this target in logs and results, e.g. "nginx /etc/nginx/nginx.conf". */
  readonly id: string;
  /** Names the certificate must cover to be deployed here. */
  readonly expectedNames: readonly string[];
  /** The options it was built from (no secrets), journaled so an interrupted deploy can rebuild it on restart. */
  readonly options: Readonly<{ kind: TargetKind }>;
  /** The files this material becomes here. Writes nothing. */
  plan(material: DeployMaterial, signal: AbortSignal): Promise<PlannedWrite[]>;
  /** The service's own config test (nginx -t, apache2 -t, haproxy -c, or a named command); throws when it fails. */
  test(signal: AbortSignal): Promise<void>;
  /** Makes the service load the files now in place; throws when it cannot. */
  reload(signal: AbortSignal): Promise<void>;
}

/** Where the service programs are; PATH (with the sbin directories) finds them by default. */
export interface ServiceBinaries {
  nginx: string;
  apache2: string;
  haproxy: string;
  openssl: string;
}

export const DEFAULT_SERVICE_BINARIES: ServiceBinaries = Object.freeze({ nginx: 'nginx', apache2: 'apache2', haproxy: 'haproxy', openssl: 'openssl' });

/** What the agent's own config allows, handed to every target when it is built. */
export interface DeployEnvironment {
  /** Real paths of the agent's allowedPaths (see resolveAllowedRoots). */
  allowedRoots: readonly string[];
  /** Service main configs a target may name although they are outside allowedPaths (read, never written). */
  serviceConfigFiles: readonly string[];
  /** The agent's own allowlist of named commands. */
  commands: CommandRunner;
  /** Timeout and output bound for the services' own test and reload programs. */
  limits: CommandLimits;
  binaries: ServiceBinaries;
  /**
   * The variables Debian's /etc/apache2/envvars exports, which apache2.conf refers to; the agent's own config
   * sets them (never a target: APACHE_PID_FILE decides which process a graceful restart signals).
   * DEBIAN_APACHE_ENV when absent.
   */
  apacheEnvironment?: Readonly<Record<string, string>>;
  log: Logger;
}

export class TargetOptionsError extends Error {
  override name = 'TargetOptionsError';
}

/** A file mode as a number or an octal string ("0640"); set-id bits are not for certificates. */
export const fileModeSchema = z.union([
  z.number().int().min(0).max(0o777),
  z.string().regex(/^0?[0-7]{3}$/, 'expected an octal mode such as "0640"').transform((s) => parseInt(s, 8)),
]);

export const absolutePathSchema = z.string().min(1).refine((p) => p.startsWith('/'), 'expected an absolute path');

/** Options every kind takes. Command names are looked up in the agent's allowlist when the target is built. */
export const commonTargetOptions = {
  /** Names the certificate must cover; a deploy is refused before writing anything when one is missing. */
  expectedNames: z.array(z.string().min(1)).default([]),
  /** An allowlisted command to run instead of the service's own config test. */
  testCommand: z.string().min(1).optional(),
  /** An allowlisted command to run instead of the service's own reload (e.g. "reload-nginx" → systemctl reload nginx). */
  reloadCommand: z.string().min(1).optional(),
};

/** Parses `options` with `schema`, naming the first bad key. */
export function parseTargetOptions<S extends z.ZodType>(kind: string, schema: S, options: unknown): z.infer<S> {
  const parsed = schema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new TargetOptionsError(`${kind} target: option "${issue.path.join('.') || '(root)'}": ${issue.message}`);
  }
  return parsed.data;
}
