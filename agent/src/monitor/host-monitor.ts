// Keeps this host's snapshot current. Three parts refresh on their own schedules — files and configs
// (periodic rescans, and soon after inotify says something changed), endpoints (less often: handshakes
// cost more) — and after each refresh the monitor hands a report to `send`: a full one at the start of a
// session or when asked, otherwise only the difference from the last report sent.
import { watch, type FSWatcher } from 'node:fs';
import type { Logger } from 'pino';
import type { InventoryReport } from '../../../proto/generated/certflow/agent/v1/InventoryReport.js';
import type { AgentConfig } from '../config.js';
import { createScanCache } from '../discovery/scan-cache.js';
import { collectFiles, type FilePart } from './collect-files.js';
import { collectServiceBindings } from './collect-configs.js';
import { collectEndpoints, type NetworkScanAssignment } from './collect-endpoints.js';
import { emptySnapshot, type Snapshot } from './snapshot.js';
import { deltaIsEmpty, diffSnapshots } from './snapshot-diff.js';
import { deltaReport, fullReport } from './report-chunks.js';

const WATCH_DEBOUNCE_MS = 2000;

export class HostMonitor {
  private readonly cache = createScanCache();
  private files: FilePart = { occurrences: new Map(), keystores: [], problems: [] };
  private configs: Pick<Snapshot, 'bindings' | 'problems'> = { bindings: [], problems: [] };
  private endpoints: Pick<Snapshot, 'endpoints' | 'problems'> = { endpoints: [], problems: [] };
  private baseline: Snapshot | null = null;
  private assignment: NetworkScanAssignment = { ranges: [], ports: [] };
  private running: Promise<void> = Promise.resolve();
  private watchers: FSWatcher[] = [];
  private timers: NodeJS.Timeout[] = [];
  private debounce: NodeJS.Timeout | null = null;

  constructor(
    private readonly config: AgentConfig,
    private readonly log: Logger,
    private readonly send: (chunks: InventoryReport[]) => Promise<void>,
  ) {}

  /** A new session: take everything fresh and send it whole, then keep watching. */
  start(assignment: NetworkScanAssignment, signal: AbortSignal): Promise<void> {
    this.assignment = assignment;
    this.baseline = null;
    const { scan, discovery } = this.config;
    this.timers.push(setInterval(() => void this.refresh({ files: true, endpoints: false }, signal), scan.intervalSeconds * 1000));
    if (discovery.endpoints.enabled) {
      this.timers.push(setInterval(() => void this.refresh({ files: false, endpoints: true }, signal), discovery.endpoints.intervalSeconds * 1000));
    }
    if (discovery.watch) this.watchRoots(signal);
    signal.addEventListener('abort', () => this.stop(), { once: true });
    return this.refresh({ files: true, endpoints: true, full: true }, signal);
  }

  /** An operator asked for a rescan: everything fresh, sent whole. */
  rescan(signal: AbortSignal): Promise<void> {
    return this.refresh({ files: true, endpoints: true, full: true }, signal);
  }

  assignNetworkScan(assignment: NetworkScanAssignment, signal: AbortSignal): Promise<void> {
    this.assignment = assignment;
    return this.refresh({ files: false, endpoints: true }, signal);
  }

  /** The controller refused a report: the next one goes whole, whatever it refused. */
  reportRefused(): void {
    this.baseline = null;
  }

  stop(): void {
    this.timers.forEach(clearInterval);
    this.timers = [];
    this.watchers.forEach((w) => w.close());
    this.watchers = [];
    if (this.debounce) clearTimeout(this.debounce);
  }

  /** Refreshes run one at a time, in the order asked. */
  private refresh(what: { files: boolean; endpoints: boolean; full?: boolean }, signal: AbortSignal): Promise<void> {
    this.running = this.running.then(() => this.refreshNow(what, signal)).catch((err) => {
      if (!signal.aborted) this.log.error({ err }, 'inventory refresh failed');
    });
    return this.running;
  }

  private async refreshNow(what: { files: boolean; endpoints: boolean; full?: boolean }, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    const started = performance.now();
    const { scan, discovery } = this.config;
    if (what.files) {
      this.files = await collectFiles(scan, this.cache, signal);
      if (discovery.configs.enabled) this.configs = await collectServiceBindings(discovery.configs, signal);
    }
    if (what.endpoints && discovery.endpoints.enabled) {
      this.endpoints = await collectEndpoints(this.configs.bindings, this.assignment, {
        ...discovery.endpoints, ...discovery.networkScan,
      }, signal);
    }
    const current: Snapshot = {
      ...emptySnapshot(),
      occurrences: this.files.occurrences,
      keystores: this.files.keystores,
      bindings: this.configs.bindings,
      endpoints: this.endpoints.endpoints,
      problems: [...this.files.problems, ...this.configs.problems, ...this.endpoints.problems],
    };
    let chunks: InventoryReport[];
    if (what.full || !this.baseline) {
      chunks = fullReport(current, scan.paths);
    } else {
      const delta = diffSnapshots(this.baseline, current);
      if (deltaIsEmpty(delta)) return;
      chunks = deltaReport(current, delta, scan.paths);
    }
    await this.send(chunks);
    this.baseline = current;
    this.log.info({
      full: chunks[0].full, certificates: current.occurrences.size, endpoints: current.endpoints.length,
      bindings: current.bindings.length, ms: Math.round(performance.now() - started),
    }, 'inventory sent');
  }

  private watchRoots(signal: AbortSignal): void {
    for (const root of this.config.scan.paths) {
      try {
        const watcher = watch(root, { recursive: true, signal }, () => {
          if (this.debounce) clearTimeout(this.debounce);
          this.debounce = setTimeout(() => void this.refresh({ files: true, endpoints: false }, signal), WATCH_DEBOUNCE_MS);
        });
        watcher.on('error', (err) => this.log.warn({ root, error: err.message }, 'file watch failed; periodic rescans continue'));
        this.watchers.push(watcher);
      } catch (err) {
        // A missing root, or no inotify watches left: the periodic rescan still covers it.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.log.warn({ root, error: (err as Error).message }, 'cannot watch for changes');
      }
    }
  }
}
