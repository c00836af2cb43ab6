// Builds the inventory report messages for a full snapshot or a delta, split into chunks that share a
// report id (the controller applies a report only when its last chunk arrives).
import { randomUUID } from 'node:crypto';
import type { InventoryReport } from '../../../proto/generated/certflow/agent/v1/InventoryReport.js';
import type { Snapshot } from './snapshot.js';
import type { SnapshotDelta } from './snapshot-diff.js';

const ITEMS_PER_CHUNK = 500;

export function fullReport(snapshot: Snapshot, scannedRoots: string[]): InventoryReport[] {
  return chunked({
    full: true,
    occurrences: [...snapshot.occurrences.values()],
    removed: [],
    snapshot,
    scannedRoots,
    include: { keystores: true, bindings: true, endpoints: true },
  });
}

export function deltaReport(snapshot: Snapshot, delta: SnapshotDelta, scannedRoots: string[]): InventoryReport[] {
  return chunked({
    full: false,
    occurrences: delta.changed,
    removed: delta.removed,
    snapshot,
    scannedRoots,
    include: { keystores: delta.keystoresChanged, bindings: delta.bindingsChanged, endpoints: delta.endpointsChanged },
  });
}

function chunked(input: {
  full: boolean;
  occurrences: Snapshot['occurrences'] extends Map<string, infer T> ? T[] : never;
  removed: { path: string; index: number }[];
  snapshot: Snapshot;
  scannedRoots: string[];
  include: { keystores: boolean; bindings: boolean; endpoints: boolean };
}): InventoryReport[] {
  const reportId = randomUUID();
  const chunks: InventoryReport[] = [];
  const total = Math.max(input.occurrences.length, input.removed.length);
  for (let start = 0; start === 0 || start < total; start += ITEMS_PER_CHUNK) {
    const first = start === 0;
    chunks.push({
      reportId,
      chunkIndex: chunks.length,
      lastChunk: false,
      full: input.full,
      occurrences: input.occurrences.slice(start, start + ITEMS_PER_CHUNK)
        .map(({ path, index, format, der, keyPath }) => ({ path, index, format, der, keyPath })),
      removed: input.removed.slice(start, start + ITEMS_PER_CHUNK),
      // The small lists travel once, in the first chunk; problems are always the current whole list.
      problems: first ? input.snapshot.problems : [],
      scannedRoots: first ? input.scannedRoots : [],
      keystoresIncluded: first && input.include.keystores,
      keystores: first && input.include.keystores ? input.snapshot.keystores : [],
      bindingsIncluded: first && input.include.bindings,
      bindings: first && input.include.bindings ? input.snapshot.bindings : [],
      endpointsIncluded: first && input.include.endpoints,
      endpoints: first && input.include.endpoints ? input.snapshot.endpoints : [],
    });
  }
  chunks[chunks.length - 1].lastChunk = true;
  return chunks;
}
