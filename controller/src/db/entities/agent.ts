import { defineEntity, type InferEntity } from '@mikro-orm/postgresql';

export interface HostFactsRecord {
  hostname: string;
  osPlatform: string;
  osDistro: string;
  osRelease: string;
  kernel: string;
  arch: string;
  ipAddresses: string[];
  agentVersion: string;
  cpuCores: number;
  memoryBytes: string;
}

export interface NetworkScanRecord {
  ranges: string[];
  ports: number[];
}

export interface ScanProblemRecord {
  path: string;
  message: string;
}

/**
 * An enrolled agent. Its identity is the client certificate the controller issued; the serials of the
 * current and the previous certificate are both accepted, so a renewal never locks an agent out.
 */
export const Agent = defineEntity({
  name: 'Agent',
  tableName: 'agents',
  properties: (p) => ({
    id: p.uuid().primary(),
    name: p.string(),
    hostFacts: p.json<HostFactsRecord>(),
    certificateSerial: p.string(),
    previousCertificateSerial: p.string().nullable(),
    certificateNotAfter: p.datetime(),
    /** The identity certificate the agent last connected with (public): shared keys are sealed to its key. */
    identityCertificatePem: p.text().nullable(),
    enrolledAt: p.datetime(),
    enrolledWithTokenId: p.string(),
    lastSeenAt: p.datetime().nullable(),
    lastCheckInAt: p.datetime().nullable(),
    lastInventoryAt: p.datetime().nullable(),
    scanProblems: p.json<ScanProblemRecord[]>(),
    /** Network ranges an operator assigned to this agent for endpoint discovery. */
    networkScan: p.json<NetworkScanRecord>().nullable(),
    revokedAt: p.datetime().nullable(),
    /** When agent.offline was raised for the current outage; cleared once the agent is seen again. */
    offlineReportedAt: p.datetime().nullable(),
    /** Set by operators; templates adopt certificates by the labels and host groups of the agents holding them. */
    labels: p.json<Record<string, string>>().onCreate(() => ({})),
    hostGroups: p.json<string[]>().onCreate(() => []),
  }),
});
export type Agent = InferEntity<typeof Agent>;
