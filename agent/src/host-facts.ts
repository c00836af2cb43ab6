// Facts about this host for the controller's agent list. Each probe is allowed to fail on its own: an
// agent on an odd platform still checks in with what it could learn.
import si from 'systeminformation';
import { hostname } from 'node:os';
import type { HostFacts } from '../../proto/generated/certflow/agent/v1/HostFacts.js';

export const AGENT_VERSION = '0.1.0';

/**
 * How long gathered facts are reused. They hardly change (an address after a DHCP renewal, at most), and
 * gathering them runs several programs synchronously (systeminformation's network and OS probes), which
 * on every check-in (30 s by default, 1 s in tests) stalled the agent's event loop and cost more CPU
 * than its jobs.
 */
const HOST_FACTS_TTL_MS = 5 * 60_000;

let cached: { at: number; facts: Promise<HostFacts> } | null = null;

export function gatherHostFacts(now = Date.now()): Promise<HostFacts> {
  if (!cached || now - cached.at >= HOST_FACTS_TTL_MS) {
    const facts = probeHostFacts();
    cached = { at: now, facts };
    // Probes never reject (each falls back on its own), but a failure must not be kept for five minutes.
    facts.catch(() => { if (cached?.facts === facts) cached = null; });
  }
  return cached.facts;
}

async function probeHostFacts(): Promise<HostFacts> {
  const [os, cpu, mem, nics] = await Promise.all([
    si.osInfo().catch(() => null),
    si.cpu().catch(() => null),
    si.mem().catch(() => null),
    si.networkInterfaces().catch(() => []),
  ]);
  const interfaces = Array.isArray(nics) ? nics : [nics];
  return {
    hostname: os?.hostname || hostname(),
    osPlatform: os?.platform ?? process.platform,
    osDistro: os?.distro ?? '',
    osRelease: os?.release ?? '',
    kernel: os?.kernel ?? '',
    arch: os?.arch ?? process.arch,
    ipAddresses: interfaces.flatMap((n) => [n.ip4, n.ip6]).filter((ip): ip is string => Boolean(ip)),
    agentVersion: AGENT_VERSION,
    cpuCores: cpu?.cores ?? 0,
    memoryBytes: String(mem?.total ?? 0),
  };
}
