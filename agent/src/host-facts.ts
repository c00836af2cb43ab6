// Facts about this host for the controller's agent list. Each probe is allowed to fail on its own: an
// agent on an odd platform still checks in with what it could learn.
import si from 'systeminformation';
import { hostname } from 'node:os';
import type { HostFacts } from '../../proto/generated/certflow/agent/v1/HostFacts.js';

export const AGENT_VERSION = '0.1.0';

export async function gatherHostFacts(): Promise<HostFacts> {
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
