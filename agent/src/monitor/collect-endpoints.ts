// Endpoint observations for a snapshot: this host's listening sockets, probed without SNI and with each
// server name its configs give for that port, plus the network ranges an operator assigned — but only
// the parts of them this agent's own config allows, so the controller cannot turn agents into scanners
// of networks their hosts' owners did not list.
import type { EndpointObservation } from '../../../proto/generated/certflow/agent/v1/EndpointObservation.js';
import type { ScanProblem } from '../../../proto/generated/certflow/agent/v1/ScanProblem.js';
import type { ServiceBinding } from '../../../proto/generated/certflow/agent/v1/ServiceBinding.js';
import { parseCidr, probeLocalEndpoints, scanRanges, type TlsProbeResult } from '../discovery/endpoints/index.js';

export interface EndpointSettings {
  timeoutMs: number;
  maxTargets: number;
  /** Local ports never probed: well-known plain-text protocols whose logs a TLS hello would only litter. */
  excludePorts: number[];
  /** CIDR ranges this host's owner allows the agent to probe when the controller assigns them. */
  allowedRanges: string[];
  maxAddresses: number;
  ratePerSecond: number;
}

export interface NetworkScanAssignment {
  ranges: string[];
  ports: number[];
}

export async function collectEndpoints(
  bindings: ServiceBinding[],
  assignment: NetworkScanAssignment,
  settings: EndpointSettings,
  signal?: AbortSignal,
): Promise<{ endpoints: EndpointObservation[]; problems: ScanProblem[] }> {
  const problems: ScanProblem[] = [];
  const serverNamesByPort = serverNamesByListenPort(bindings);
  const excluded = new Set(settings.excludePorts);
  const local = await probeLocalEndpoints({
    serverNamesByPort, timeoutMs: settings.timeoutMs, maxTargets: settings.maxTargets, signal,
    filter: (socket) => !excluded.has(socket.port),
  });
  if (local.skipped) problems.push({ path: 'endpoints', message: `${local.skipped} local endpoint probes skipped (over the limit of ${settings.maxTargets})` });
  // Ports that are not TLS at all (SSH, plain HTTP, databases) are not endpoints: only record TLS answers
  // and failures of a TLS-looking kind (timeouts on a name-based probe, handshake failures).
  const endpoints = local.results.filter(isWorthRecording).map((r) => toObservation(r, 'local'));

  const { allowed, refused } = allowedRanges(assignment.ranges, settings.allowedRanges);
  for (const range of refused) problems.push({ path: `range ${range}`, message: 'assigned range refused: not within this agent\'s networkScan.allowedRanges' });
  if (allowed.length && assignment.ports.length) {
    try {
      for await (const result of scanRanges({
        ranges: allowed, ports: assignment.ports, maxAddresses: settings.maxAddresses, ratePerSecond: settings.ratePerSecond,
        timeoutMs: settings.timeoutMs, signal,
      })) {
        if (result.ok || result.error !== 'refused') endpoints.push(toObservation(result, 'range'));
      }
    } catch (err) {
      problems.push({ path: 'network scan', message: (err as Error).message });
    }
  }
  return { endpoints, problems };
}

/** The names each port is configured to serve, for SNI probes (wildcards and regexes cannot be sent). */
export function serverNamesByListenPort(bindings: { serverNames?: string[]; listen?: { port?: number }[] }[]): Map<number, string[]> {
  const byPort = new Map<number, string[]>();
  for (const binding of bindings) {
    for (const listen of binding.listen ?? []) {
      const names = byPort.get(listen.port!) ?? [];
      for (const name of binding.serverNames ?? []) if (!names.includes(name) && !name.includes('*') && !name.startsWith('~')) names.push(name);
      byPort.set(listen.port!, names);
    }
  }
  return byPort;
}

function isWorthRecording(result: TlsProbeResult): boolean {
  return result.ok || result.error.startsWith('handshake failed');
}

function toObservation(result: TlsProbeResult, source: 'local' | 'range'): EndpointObservation {
  return {
    host: result.host,
    port: result.port,
    serverName: result.serverName ?? '',
    source,
    ok: result.ok,
    chain: result.ok ? result.chain : [],
    error: result.ok ? '' : result.error,
    protocol: result.ok ? result.protocol : '',
  };
}

/** Splits assigned ranges into those inside an allowed range and those that are not (or do not parse). */
export function allowedRanges(assigned: string[], allowedList: string[]): { allowed: string[]; refused: string[] } {
  const allowedParsed = allowedList.flatMap((text) => {
    try {
      return [parseCidr(text)];
    } catch {
      return [];
    }
  });
  const allowed: string[] = [];
  const refused: string[] = [];
  for (const text of assigned) {
    let range;
    try {
      range = parseCidr(text);
    } catch {
      refused.push(text);
      continue;
    }
    const inside = allowedParsed.some((a) => a.family === range.family && a.first <= range.first && range.last <= a.last);
    (inside ? allowed : refused).push(text);
  }
  return { allowed, refused };
}
