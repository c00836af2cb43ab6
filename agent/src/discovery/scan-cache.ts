// Makes an unchanged rescan cheap: what a file held is remembered under its absolute path together with its
// (dev, ino, size, mtime, ctime), and while the stat the walk makes anyway still says the same, the file is
// not read again. ctime catches what mtime can be made to hide (`touch -d`, tar restoring times), and
// dev/ino catch a file replaced by a rename (how certbot and most deploy tools update certificates).
//
// One cache belongs to one scanner configuration: keystore passwords and the size cap change what a file
// yields, so a scan with other settings starts from empty. Files no longer seen are forgotten at the end of
// each complete scan, so memory follows the tree.
import type { Stats } from 'node:fs';
import type { FileFindings } from './file-formats.js';

export interface ScanCache {
  /** Files answered from the cache and files that had to be read, since the cache was created. */
  readonly hits: number;
  readonly misses: number;
  readonly size: number;
  lookup(path: string, stats: Stats): FileFindings | undefined;
  remember(path: string, stats: Stats, findings: FileFindings): void;
  /** Called by scanPaths when a scan starts, with a key of the settings that shape findings. */
  beginScan(settingsKey: string): void;
  /** Called by scanPaths when a scan ran to its end (not when aborted): drops files it did not see. */
  completeScan(): void;
}

interface Entry {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  findings: FileFindings;
  seenInScan: number;
}

export function createScanCache(): ScanCache {
  return new StatScanCache();
}

class StatScanCache implements ScanCache {
  hits = 0;
  misses = 0;
  readonly #entries = new Map<string, Entry>();
  #settingsKey: string | undefined;
  #scan = 0;

  get size(): number {
    return this.#entries.size;
  }

  lookup(path: string, stats: Stats): FileFindings | undefined {
    const entry = this.#entries.get(path);
    if (entry === undefined || entry.ino !== stats.ino || entry.mtimeMs !== stats.mtimeMs || entry.ctimeMs !== stats.ctimeMs
      || entry.size !== stats.size || entry.dev !== stats.dev) {
      this.misses++;
      return undefined;
    }
    entry.seenInScan = this.#scan;
    this.hits++;
    return entry.findings;
  }

  remember(path: string, stats: Stats, findings: FileFindings): void {
    const { dev, ino, size, mtimeMs, ctimeMs } = stats;
    this.#entries.set(path, { dev, ino, size, mtimeMs, ctimeMs, findings, seenInScan: this.#scan });
  }

  beginScan(settingsKey: string): void {
    if (settingsKey !== this.#settingsKey) this.#entries.clear();
    this.#settingsKey = settingsKey;
    this.#scan++;
  }

  completeScan(): void {
    for (const [path, entry] of this.#entries) {
      if (entry.seenInScan !== this.#scan) this.#entries.delete(path);
    }
  }
}
