// Which handshakes to attempt against the host's own listening sockets: each socket once without SNI (what a
// client that sends none, or an unknown name, is served), then once per server name the web server configs
// give for that port, since SNI can select a different certificate for each name.
import { isIP } from 'node:net';
import type { ListeningSocket } from './listening-sockets.js';
import type { ProbeTarget } from './tls-probe.js';

export interface ProbePlanOptions {
  /** Default 2,000: a host with thousands of virtual hosts still gets a bounded discovery run. */
  maxTargets?: number;
}

export interface LocalProbePlan {
  targets: ProbeTarget[];
  /** Targets left out by maxTargets, so the cut is reported instead of silent. */
  skipped: number;
}

export const DEFAULT_MAX_LOCAL_TARGETS = 2_000;

// Only a literal host name can be sent as SNI: configs also hold wildcards (*.example.com), regular
// expressions (~^www\d+), catch-all placeholders (_) and IP addresses, none of which a client would send.
const HOST_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

export function planLocalProbes(
  sockets: ListeningSocket[],
  serverNamesByPort: Map<number, string[]>,
  options: ProbePlanOptions = {},
): LocalProbePlan {
  const maxTargets = options.maxTargets ?? DEFAULT_MAX_LOCAL_TARGETS;
  // Sockets without SNI come first, so when the bound cuts, it cuts name variants before whole sockets.
  const bare: ProbeTarget[] = sockets.map(({ address, port }) => ({ host: address, port }));
  const named: ProbeTarget[] = [];
  for (const { address, port } of sockets) {
    for (const serverName of sniNames(serverNamesByPort.get(port) ?? [])) {
      named.push({ host: address, port, serverName });
    }
  }
  const all = [...bare, ...named];
  return { targets: all.slice(0, maxTargets), skipped: Math.max(0, all.length - maxTargets) };
}

function sniNames(names: string[]): string[] {
  const unique = new Set<string>();
  for (const name of names) {
    // DNS names are case-insensitive and a trailing dot is the same name; SNI carries neither.
    const normalized = name.trim().toLowerCase().replace(/\.$/, '');
    if (HOST_NAME.test(normalized) && isIP(normalized) === 0) unique.add(normalized);
  }
  return [...unique];
}
