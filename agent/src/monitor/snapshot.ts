// What the agent knows about its host at one moment: certificate occurrences in files, keystores,
// service bindings and endpoint observations, in the contract's shapes. Reports are built from these.
import type { CertificateOccurrence } from '../../../proto/generated/certflow/agent/v1/CertificateOccurrence.js';
import type { EndpointObservation } from '../../../proto/generated/certflow/agent/v1/EndpointObservation.js';
import type { Keystore } from '../../../proto/generated/certflow/agent/v1/Keystore.js';
import type { ScanProblem } from '../../../proto/generated/certflow/agent/v1/ScanProblem.js';
import type { ServiceBinding } from '../../../proto/generated/certflow/agent/v1/ServiceBinding.js';

export interface SnapshotOccurrence extends Required<Pick<CertificateOccurrence, 'path' | 'index' | 'format' | 'keyPath'>> {
  der: Buffer;
  fingerprintSha256: string;
}

export interface Snapshot {
  /** Keyed by `locationKey(path, index)`. */
  occurrences: Map<string, SnapshotOccurrence>;
  problems: ScanProblem[];
  keystores: Keystore[];
  bindings: ServiceBinding[];
  endpoints: EndpointObservation[];
}

export function locationKey(path: string, index: number): string {
  return `${path}\u0000${index}`;
}

export function emptySnapshot(): Snapshot {
  return { occurrences: new Map(), problems: [], keystores: [], bindings: [], endpoints: [] };
}
