// Endpoint discovery: the TLS endpoints this host serves (its listening sockets, probed with and without the
// server names its configs give) and those in the network ranges an operator assigned to this agent.
import { listListeningTcpSockets, type ListeningSocket } from './listening-sockets.js';
import { planLocalProbes } from './probe-plan.js';
import { probeTls, type ProbeTarget, type TlsProbeResult } from './tls-probe.js';

export { listListeningTcpSockets, parseProcNetTcp, type ListeningSocket } from './listening-sockets.js';
export { planLocalProbes, DEFAULT_MAX_LOCAL_TARGETS, type LocalProbePlan, type ProbePlanOptions } from './probe-plan.js';
export {
  probeTls,
  DEFAULT_PROBE_TIMEOUT_MS,
  type ProbeFunction,
  type ProbeTarget,
  type TlsProbeOptions,
  type TlsProbeResult,
} from './tls-probe.js';
export {
  expandRanges,
  formatAddress,
  parseAddress,
  parseCidr,
  scanRanges,
  InvalidCidrError,
  TooManyAddressesError,
  DEFAULT_BURST,
  DEFAULT_CONCURRENCY,
  DEFAULT_RATE_PER_SECOND,
  type CidrRange,
  type ExpandedRanges,
  type IpFamily,
  type RangeScanOptions,
} from './range-scan.js';

export interface LocalProbeOptions {
  /** Server names from the web server configs, by the port they are served on. */
  serverNamesByPort?: Map<number, string[]>;
  timeoutMs?: number;
  /** Handshakes in flight at once (default 16). */
  concurrency?: number;
  /** Default 2,000 (see planLocalProbes). */
  maxTargets?: number;
  /** Which sockets to probe; lets an operator keep the agent away from, say, a database port. */
  filter?: (socket: ListeningSocket) => boolean;
  signal?: AbortSignal;
}

export interface LocalProbeReport {
  /** In plan order: each socket without SNI, then each socket with each of its server names. */
  results: TlsProbeResult[];
  /** Targets over maxTargets that were not probed. */
  skipped: number;
}

export const DEFAULT_LOCAL_CONCURRENCY = 16;

export async function probeLocalEndpoints(options: LocalProbeOptions = {}): Promise<LocalProbeReport> {
  const { signal, timeoutMs } = options;
  const sockets = (await listListeningTcpSockets()).filter(options.filter ?? (() => true));
  const plan = planLocalProbes(sockets, options.serverNamesByPort ?? new Map(), { maxTargets: options.maxTargets });
  const results = await mapBounded(plan.targets, options.concurrency ?? DEFAULT_LOCAL_CONCURRENCY,
    (target: ProbeTarget) => probeTls(target, { timeoutMs, signal }));
  return { results, skipped: plan.skipped };
}

/** Like Promise.all over `items.map(work)`, with at most `limit` calls running; results keep input order. */
async function mapBounded<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  if (!(limit >= 1)) throw new RangeError(`concurrency must be at least 1, not ${limit}`);
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
