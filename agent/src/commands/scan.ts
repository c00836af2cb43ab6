// `certflow-agent scan PATH... [--json]`: the agent's scanner run by hand, to see what it would report.
// Certificates go to stdout (a table, or JSON Lines for scripts); problems and keystores that could not be
// opened go to stderr, one line each, and do not change the exit code: a scan that ran is a success even if
// some files could not be read. Skips (FIFOs, sockets, devices, loops, encrypted keys) are expected on any
// host and are not printed. Keystore passwords are the scanner's defaults; none is taken on the command line,
// where every user of the host could read it.
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { isMalformedCertificateError, type CertificateFacts } from '../../../proto/shared/certificate-facts.js';
import { scanPaths, type ScanEvent } from '../discovery/file-scanner.js';
import { bindingsByFile, servedCertificates, type ConfigUse } from './scan-extras.js';

export const SCAN_USAGE = 'usage: certflow-agent scan PATH... [--json] [--configs] [--endpoints]';

const EXIT_OK = 0;
const EXIT_USAGE = 2;
const MS_PER_DAY = 24 * 60 * 60 * 1000;
const FINGERPRINT_PREFIX_LENGTH = 16;

export interface ScanCommandDependencies {
  /** Clock for DAYS LEFT, injectable so tests do not depend on today's date. */
  now?: () => Date;
  signal?: AbortSignal;
}

type CertificateEvent = Extract<ScanEvent, { type: 'certificate' }>;
type KeystoreEvent = Extract<ScanEvent, { type: 'keystore' }>;
type TableRow = CertificateEvent | KeystoreEvent;
export type { ConfigUse };

export async function runScanCommand(
  argv: string[],
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
  dependencies: ScanCommandDependencies = {},
): Promise<number> {
  let json: boolean;
  let withConfigs: boolean;
  let withEndpoints: boolean;
  let paths: string[];
  try {
    const parsed = parseArgs({
      args: argv,
      options: {
        json: { type: 'boolean', default: false },
        configs: { type: 'boolean', default: false },
        endpoints: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      allowPositionals: true,
      strict: true,
    });
    if (parsed.values.help) {
      await writeLine(out, SCAN_USAGE);
      return EXIT_OK;
    }
    json = parsed.values.json;
    withConfigs = parsed.values.configs;
    withEndpoints = parsed.values.endpoints;
    paths = parsed.positionals;
  } catch (parseError) {
    await writeLine(err, `certflow-agent: ${parseError instanceof Error ? parseError.message : String(parseError)}`);
    await writeLine(err, SCAN_USAGE);
    return EXIT_USAGE;
  }
  if (paths.length === 0 && !withEndpoints) {
    await writeLine(err, 'certflow-agent: scan needs at least one PATH');
    await writeLine(err, SCAN_USAGE);
    return EXIT_USAGE;
  }

  const output = watchForFailure(out);
  try {
    const tableRows: TableRow[] = [];
    // Server configs are read first (with --configs, or --endpoints for the server names to send as SNI).
    const configs = withConfigs || withEndpoints ? await bindingsByFile(dependencies.signal) : null;
    for (const problem of withConfigs ? configs!.problems : []) {
      await writeLine(err, `certflow-agent: ${printable(problem.path)}: ${printable(problem.message)}`);
    }
    const usedBy = (path: string) => (withConfigs ? { usedBy: configs!.uses.get(path) ?? [] } : {});
    for await (const event of scanPaths(paths, { signal: dependencies.signal })) {
      if (event.type === 'skipped') continue;
      if (event.type === 'problem' || (event.type === 'keystore' && event.state !== 'opened')) {
        await writeLine(err, `certflow-agent: ${printable(event.path)}: ${printable(event.message)}`);
      }
      if (event.type === 'problem') continue;
      if (event.type === 'certificate' && !(await factsReadable(event, err))) continue;
      if (json) {
        // Written as they come; the scanner itself holds certificates back until the whole tree is walked
        // (a certificate's keyPath may depend on a key found later).
        if (event.type === 'certificate') await writeLine(out, JSON.stringify({ ...jsonRecord(event), ...usedBy(event.path) }));
      } else if (event.type === 'certificate' || event.state !== 'opened') {
        // The table needs every row before it can size its columns. An opened keystore shows as its certificates.
        tableRows.push(event);
      }
      if (output.failure) break;
    }
    if (withEndpoints && !output.failure) {
      const served = await servedCertificates(configs!.bindings, dependencies.signal);
      for (const problem of served.problems) await writeLine(err, `certflow-agent: ${printable(problem.path)}: ${printable(problem.message)}`);
      for (const occurrence of served.occurrences) {
        if (json) await writeLine(out, JSON.stringify({ ...jsonRecord(occurrence as unknown as CertificateEvent), endpoint: occurrence.endpoint }));
        else tableRows.push(occurrence as unknown as CertificateEvent);
        if (output.failure) break;
      }
    }
    if (!json) {
      const now = (dependencies.now ?? (() => new Date()))();
      for (const line of formatTable(tableRows, now)) {
        if (output.failure) break;
        await writeLine(out, line);
      }
    }
    // A reader that went away (`scan / --json | head`) wanted no more output; that is not a failed scan.
    if (output.failure && output.failure.code !== 'EPIPE') throw output.failure;
    return EXIT_OK;
  } finally {
    output.stopWatching();
  }
}

/**
 * The scanner computes a certificate's facts only when read (see discovery/certificate-parser.ts); a
 * certificate whose DER is well-formed but unparsable is reported here as a problem, like any other.
 */
async function factsReadable(event: CertificateEvent, err: NodeJS.WritableStream): Promise<boolean> {
  try {
    void event.facts.subject;
    return true;
  } catch (error) {
    if (!isMalformedCertificateError(error)) throw error;
    const where = event.format === 'pem' ? `certificate block ${event.index}` : `certificate ${event.index}`;
    await writeLine(err, `certflow-agent: ${printable(event.path)}: ${where}: ${printable(error.message)}`);
    return false;
  }
}

/** Records the first error the stream emits, so the scan can stop instead of the process dying on it. */
function watchForFailure(stream: NodeJS.WritableStream) {
  const watch = {
    failure: undefined as NodeJS.ErrnoException | undefined,
    stopWatching: () => stream.off('error', onError),
  };
  const onError = (error: NodeJS.ErrnoException) => {
    watch.failure ??= error;
  };
  stream.on('error', onError);
  return watch;
}

/** The stable JSON Lines record: exactly these fields, in this order. No key material, only a key's path. */
function jsonRecord({ path, index, format, facts, keyPath }: CertificateEvent) {
  return {
    path,
    index,
    format,
    fingerprintSha256: facts.fingerprintSha256,
    subject: facts.subject,
    issuer: facts.issuer,
    serialNumber: facts.serialNumber,
    sans: facts.sans,
    notBefore: facts.notBefore,
    notAfter: facts.notAfter,
    keyAlgorithm: facts.keyAlgorithm,
    keySize: facts.keySize,
    curve: facts.curve,
    signatureAlgorithm: facts.signatureAlgorithm,
    selfSigned: facts.selfSigned,
    isCa: facts.isCa,
    keyPath,
  };
}

interface Column {
  header: string;
  alignRight?: boolean;
  value: (event: CertificateEvent) => string;
  /** What a keystore that could not be opened shows in this column. */
  keystoreValue?: (event: KeystoreEvent) => string;
}

function formatTable(rows: TableRow[], now: Date): string[] {
  const columns: Column[] = [
    { header: 'PATH#INDEX', value: ({ path, index }) => printable(`${path}#${index}`), keystoreValue: ({ path }) => printable(path) },
    { header: 'SUBJECT', value: ({ facts }) => printable(facts.subject), keystoreValue: ({ kind, state }) => `(${kind} keystore, ${state})` },
    { header: 'NOT AFTER', value: ({ facts }) => facts.notAfter.replace(/\.\d{3}Z$/, 'Z') },
    { header: 'DAYS LEFT', alignRight: true, value: ({ facts }) => String(daysLeft(facts, now)) },
    { header: 'KEY', value: ({ facts }) => describeKey(facts) },
    { header: 'FINGERPRINT', value: ({ facts }) => facts.fingerprintSha256.slice(0, FINGERPRINT_PREFIX_LENGTH) },
  ];
  const cell = (column: Column, row: TableRow) => (row.type === 'certificate' ? column.value(row) : column.keystoreValue?.(row) ?? '-');
  const cells = [columns.map((column) => column.header), ...rows.map((row) => columns.map((column) => cell(column, row)))];
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => line[i].length)));
  return cells.map((line) => line
    .map((cell, i) => (columns[i].alignRight ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
    .join('  ')
    .trimEnd());
}

/** Whole days until expiry, negative once expired (floor, so "0" means it expires within a day). */
function daysLeft(facts: CertificateFacts, now: Date): number {
  return Math.floor((Date.parse(facts.notAfter) - now.getTime()) / MS_PER_DAY);
}

function describeKey({ keyAlgorithm, keySize, curve }: CertificateFacts): string {
  if (keySize !== null) return `${keyAlgorithm}-${keySize}`;
  if (curve !== null) return `${keyAlgorithm} ${curve}`;
  return keyAlgorithm;
}

/** File names may hold control characters; escape them so one problem or row stays one terminal line. */
function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]/g, (char) => `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

async function writeLine(stream: NodeJS.WritableStream, line: string): Promise<void> {
  // Respect backpressure so a slow pipe does not make us buffer the whole scan in memory.
  // `once` rejects if the stream errors while we wait; watchForFailure has recorded that error already.
  if (!stream.write(`${line}\n`)) await once(stream, 'drain').catch(() => undefined);
}
