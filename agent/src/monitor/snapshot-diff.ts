// The difference between the last snapshot the controller acknowledged and the current one: what a
// delta report carries. Occurrences differ when their certificate, format or key path changed; the
// small lists (keystores, bindings, endpoints) are compared whole and resent whole when they differ.
import { createHash } from 'node:crypto';
import type { Snapshot, SnapshotOccurrence } from './snapshot.js';

export interface SnapshotDelta {
  changed: SnapshotOccurrence[];
  removed: { path: string; index: number }[];
  keystoresChanged: boolean;
  bindingsChanged: boolean;
  endpointsChanged: boolean;
  problemsChanged: boolean;
}

export function diffSnapshots(previous: Snapshot, current: Snapshot): SnapshotDelta {
  const changed: SnapshotOccurrence[] = [];
  const removed: { path: string; index: number }[] = [];
  for (const [key, occurrence] of current.occurrences) {
    const before = previous.occurrences.get(key);
    if (!before) {
      changed.push(occurrence);
    } else if (before.fingerprintSha256 !== occurrence.fingerprintSha256) {
      // Another certificate at the same place: the old location ends, the new one begins.
      removed.push({ path: before.path, index: before.index });
      changed.push(occurrence);
    } else if (before.format !== occurrence.format || before.keyPath !== occurrence.keyPath) {
      changed.push(occurrence);
    }
  }
  for (const [key, before] of previous.occurrences) {
    if (!current.occurrences.has(key)) removed.push({ path: before.path, index: before.index });
  }
  return {
    changed,
    removed,
    keystoresChanged: digest(previous.keystores) !== digest(current.keystores),
    bindingsChanged: digest(previous.bindings) !== digest(current.bindings),
    endpointsChanged: digest(previous.endpoints) !== digest(current.endpoints),
    problemsChanged: digest(previous.problems) !== digest(current.problems),
  };
}

export function deltaIsEmpty(delta: SnapshotDelta): boolean {
  return !delta.changed.length && !delta.removed.length && !delta.keystoresChanged && !delta.bindingsChanged
    && !delta.endpointsChanged && !delta.problemsChanged;
}

/** Order-independent digest of a list of plain records (Buffers hashed by content). */
function digest(items: unknown[]): string {
  const lines = items.map((item) => JSON.stringify(item, (_key, value) =>
    value && value.type === 'Buffer' && Array.isArray(value.data) ? Buffer.from(value.data).toString('base64') : value)).sort();
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}
