// Scans files and directories for certificates, keystores and private keys. Nothing on disk can crash, hang
// or balloon a scan: special files are skipped, loops detected, large files skipped, every read bounded, and
// whatever cannot be read or understood becomes an event naming the path; the scan carries on.
//
// Event order: problems, skips and keystores come as the walk meets them. Certificate events come after the
// walk, in walk order, because a certificate's keyPath depends on the whole tree (its key may sit in a file
// walked later); until then they are held in memory (a few KiB each).
import { createHash } from 'node:crypto';
import { closeSync, constants as fsConstants, openSync, readSync, type Stats } from 'node:fs';
import { resolve } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { CertificateFacts } from '../../../proto/shared/certificate-facts.js';
import { CertificateParser } from './certificate-parser.js';
import { examineFile, type CertificateFormat, type FoundCertificate, type KeystoreKind, type KeystoreState } from './file-formats.js';
import { createPathFilter } from './glob.js';
import { KeyLocations } from './private-keys.js';
import type { ScanCache } from './scan-cache.js';
import { fsProblem, walkRoots } from './tree-walk.js';

export type { CertificateFormat, KeystoreKind, KeystoreState };

export interface CertificateEvent {
  type: 'certificate';
  path: string;
  /** Position among the file's (or keystore's) certificates. */
  index: number;
  format: CertificateFormat;
  der: Buffer;
  /** fingerprintSha256 at once, the rest computed when first read (see certificate-parser.ts): reading them
   * throws MalformedCertificateError for the rare certificate node:crypto parses but certificateFacts not. */
  facts: CertificateFacts;
  /** SHA-256 (hex) of the certificate's SubjectPublicKeyInfo: what private keys are matched by. */
  publicKeySha256: string;
  /** Where a matching private key was found: this file or keystore if it holds one, else the first file of
   * the scan that does; null when none does. Only the path: key material never leaves the scanner. */
  keyPath: string | null;
}

/** Something that needs attention: unreadable, malformed, too large. */
export interface ProblemEvent { type: 'problem'; path: string; message: string }

/** Passed over on purpose, with the reason: special files, loops, encrypted private keys. */
export interface SkippedEvent { type: 'skipped'; path: string; message: string }

export interface KeystoreEvent {
  type: 'keystore';
  path: string;
  kind: KeystoreKind;
  /** opened: a password (or none) opened it; locked: none configured did; detected: recognised, not fully readable. */
  state: KeystoreState;
  /** Certificates reported from it (as certificate events with its path). */
  certificates: number;
  /** One line for people: "pkcs12 keystore locked (no configured password opens it)". */
  message: string;
}

export type ScanEvent = CertificateEvent | ProblemEvent | SkippedEvent | KeystoreEvent;

export interface ScanOptions {
  signal?: AbortSignal;
  /** Files larger than this are skipped with a problem; certificates, bundles and keystores are a few KiB. */
  maxFileBytes?: number;
  /** Globs over absolute paths (see glob.ts); with include, only matching files are read. */
  include?: readonly string[];
  /** Globs over absolute paths; an excluded directory is not entered. */
  exclude?: readonly string[];
  /** Tried after the empty password on PKCS#12 and Java keystores. Secrets of the host: never reported. */
  keystorePasswords?: readonly string[];
  /** Remembers files between scans, so unchanged files are not read again (createScanCache()). */
  cache?: ScanCache;
}

export const DEFAULT_MAX_FILE_BYTES = 10 * 1024 * 1024;
export const DEFAULT_KEYSTORE_PASSWORDS: readonly string[] = Object.freeze(['changeit']);

// Synchronous file work runs in slices this long before the event loop gets a turn (timers, sockets).
const SLICE_MS = 10;

export async function* scanPaths(paths: string[], options: ScanOptions = {}): AsyncGenerator<ScanEvent> {
  const roots = paths.map((path) => resolve(path));
  const maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const keystorePasswords = options.keystorePasswords ?? DEFAULT_KEYSTORE_PASSWORDS;
  const { signal, cache } = options;
  const context = { parser: new CertificateParser(), keystorePasswords };
  const keys = new KeyLocations();
  // Certificates in walk order, as the path and what the file yielded (no copies: a cached file's findings).
  const held: { path: string; certificate: FoundCertificate }[] = [];
  const readBuffer: ReadBuffer = { bytes: Buffer.allocUnsafeSlow(64 * 1024) };
  // The passwords enter the cache's settings key only hashed, so they are not kept around as text.
  cache?.beginScan(createHash('sha256').update(JSON.stringify([roots, maxFileBytes, keystorePasswords])).digest('hex'));
  let sliceStart = performance.now();
  let items = 0;

  for (const item of walkRoots(roots, createPathFilter(options.include, options.exclude))) {
    signal?.throwIfAborted();
    if ((++items & 15) === 0 && performance.now() - sliceStart > SLICE_MS) {
      await yieldToEventLoop(undefined, { signal });
      sliceStart = performance.now();
    }
    if (item.type !== 'file') {
      yield item;
      continue;
    }
    const { path, stats } = item;
    if (stats.size > maxFileBytes) {
      yield { type: 'problem', path, message: `skipped: larger than ${maxFileBytes} bytes` };
      continue;
    }
    let findings = cache?.lookup(path, stats);
    if (findings === undefined) {
      const read = readBounded(path, stats, maxFileBytes, readBuffer);
      if (read === 'too-large') {
        yield { type: 'problem', path, message: `skipped: larger than ${maxFileBytes} bytes` };
        continue;
      }
      if (!Buffer.isBuffer(read)) {
        yield read;
        continue;
      }
      findings = await examineFile(read, path, context);
      cache?.remember(path, stats, findings);
    }
    for (const notice of findings.notices) yield { type: notice.type, path, message: notice.message };
    if (findings.keystore !== null) yield { type: 'keystore', path, ...findings.keystore };
    for (const hash of findings.keyHashes) keys.add(hash, path);
    for (const certificate of findings.certificates) held.push({ path, certificate });
  }

  cache?.completeScan();
  for (const { path, certificate: { index, format, der, facts, publicKeySha256, keyInSameFile } } of held) {
    const keyPath = keyInSameFile ? path : keys.pathOf(publicKeySha256);
    yield { type: 'certificate', path, index, format, der, facts, publicKeySha256, keyPath };
  }
}

/**
 * One buffer per scan that every file is read into, grown as needed up to the size cap: most files hold no
 * certificate, and allocating a buffer for each would only feed the garbage collector. examineFile copies
 * whatever it keeps.
 */
interface ReadBuffer {
  bytes: Buffer;
}

/**
 * Reads at most maxFileBytes + 1 bytes, whatever the file turned into since its stat: O_NONBLOCK so that a
 * path swapped for a FIFO cannot wait for a writer, and the bound so that a growing file cannot balloon.
 * Returns a view of the read buffer, valid until the next read.
 */
function readBounded(path: string, stats: Stats, maxFileBytes: number, buffer: ReadBuffer): Buffer | 'too-large' | ProblemEvent {
  let fd: number;
  try {
    fd = openSync(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  } catch (err) {
    return fsProblem(path, err) as ProblemEvent;
  }
  try {
    const limit = maxFileBytes + 1;
    let total = 0;
    // The expected size plus one byte, to notice a file that grew since its stat; then more as it keeps growing.
    let wanted = Math.min(stats.size + 1, limit);
    for (;;) {
      if (buffer.bytes.length < wanted) {
        const grown = Buffer.allocUnsafeSlow(Math.min(Math.max(wanted, buffer.bytes.length * 2), limit));
        buffer.bytes.copy(grown, 0, 0, total);
        buffer.bytes = grown;
      }
      const count = readSync(fd, buffer.bytes, total, wanted - total, null);
      total += count;
      if (count === 0 || total >= limit) break;
      if (total === wanted) wanted = Math.min(wanted + 64 * 1024, limit);
    }
    return total > maxFileBytes ? 'too-large' : buffer.bytes.subarray(0, total);
  } catch (err) {
    return fsProblem(path, err) as ProblemEvent;
  } finally {
    closeSync(fd);
  }
}
