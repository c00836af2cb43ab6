// File part of a snapshot: certificate occurrences (with where their keys are), keystores and problems,
// from a scan of the configured roots. The stat cache makes an unchanged tree cheap to rescan.
import type { Keystore } from '../../../proto/generated/certflow/agent/v1/Keystore.js';
import type { ScanProblem } from '../../../proto/generated/certflow/agent/v1/ScanProblem.js';
import type { AgentConfig } from '../config.js';
import { scanPaths } from '../discovery/file-scanner.js';
import type { ScanCache } from '../discovery/scan-cache.js';
import { locationKey, type SnapshotOccurrence } from './snapshot.js';

export interface FilePart {
  occurrences: Map<string, SnapshotOccurrence>;
  keystores: Keystore[];
  problems: ScanProblem[];
}

export async function collectFiles(scan: AgentConfig['scan'], cache: ScanCache, signal?: AbortSignal): Promise<FilePart> {
  const part: FilePart = { occurrences: new Map(), keystores: [], problems: [] };
  for await (const event of scanPaths(scan.paths, {
    signal, cache, include: scan.include, exclude: scan.exclude, maxFileBytes: scan.maxFileBytes, keystorePasswords: scan.keystorePasswords,
  })) {
    switch (event.type) {
      case 'certificate':
        part.occurrences.set(locationKey(event.path, event.index), {
          path: event.path, index: event.index, format: event.format, der: event.der,
          fingerprintSha256: event.facts.fingerprintSha256, keyPath: event.keyPath ?? '',
        });
        break;
      case 'keystore':
        part.keystores.push({ path: event.path, kind: event.kind, state: event.state, certificates: event.certificates });
        break;
      case 'problem':
        part.problems.push({ path: event.path, message: event.message });
        break;
      case 'skipped':
        // Skips on purpose (special files, loops) are not problems; they are visible with `certflow-agent scan`.
        break;
    }
  }
  return part;
}
