// Host facts arrive from agents as protobuf messages; store them as plain records, bounded in size so a
// lying agent cannot bloat its row.
import type { HostFacts__Output } from '../../../proto/generated/certflow/agent/v1/HostFacts.js';
import type { HostFactsRecord } from '../db/entities/agent.js';

const clip = (s: string | undefined, max = 255) => (s ?? '').slice(0, max);

export function toHostFactsRecord(facts: HostFacts__Output | null | undefined): HostFactsRecord {
  return {
    hostname: clip(facts?.hostname),
    osPlatform: clip(facts?.osPlatform),
    osDistro: clip(facts?.osDistro),
    osRelease: clip(facts?.osRelease),
    kernel: clip(facts?.kernel),
    arch: clip(facts?.arch, 32),
    ipAddresses: (facts?.ipAddresses ?? []).slice(0, 64).map((ip) => clip(ip, 64)),
    agentVersion: clip(facts?.agentVersion, 64),
    cpuCores: facts?.cpuCores ?? 0,
    memoryBytes: String(facts?.memoryBytes ?? '0'),
  };
}
