// What a delta report carries between two snapshots, and how reports are chunked.
import { describe, expect, it } from 'vitest';
import { diffSnapshots, deltaIsEmpty } from '../../agent/src/monitor/snapshot-diff.js';
import { deltaReport, fullReport } from '../../agent/src/monitor/report-chunks.js';
import { emptySnapshot, locationKey, type Snapshot, type SnapshotOccurrence } from '../../agent/src/monitor/snapshot.js';

function occurrence(path: string, index: number, fingerprint: string, keyPath = ''): SnapshotOccurrence {
  return { path, index, format: 'pem', keyPath, der: Buffer.from(fingerprint), fingerprintSha256: fingerprint };
}

function snapshot(...occurrences: SnapshotOccurrence[]): Snapshot {
  const s = emptySnapshot();
  for (const o of occurrences) s.occurrences.set(locationKey(o.path, o.index), o);
  return s;
}

describe('snapshot differences', () => {
  it('finds nothing between two equal snapshots', () => {
    const a = snapshot(occurrence('/a.pem', 0, 'f1'), occurrence('/a.pem', 1, 'f2'));
    const b = snapshot(occurrence('/a.pem', 0, 'f1'), occurrence('/a.pem', 1, 'f2'));
    expect(deltaIsEmpty(diffSnapshots(a, b))).toBe(true);
  });

  it('reports added, removed and replaced certificates', () => {
    const before = snapshot(occurrence('/a.pem', 0, 'f1'), occurrence('/b.pem', 0, 'f2'));
    const after = snapshot(occurrence('/a.pem', 0, 'f9'), occurrence('/c.pem', 0, 'f3'));
    const delta = diffSnapshots(before, after);
    expect(delta.changed.map((o) => `${o.path}:${o.fingerprintSha256}`).sort()).toEqual(['/a.pem:f9', '/c.pem:f3']);
    expect(delta.removed).toEqual(expect.arrayContaining([{ path: '/a.pem', index: 0 }, { path: '/b.pem', index: 0 }]));
    expect(delta.removed).toHaveLength(2);
  });

  it('resends an occurrence whose matching key appeared', () => {
    const delta = diffSnapshots(snapshot(occurrence('/a.pem', 0, 'f1')), snapshot(occurrence('/a.pem', 0, 'f1', '/a.key')));
    expect(delta.changed).toHaveLength(1);
    expect(delta.removed).toHaveLength(0);
  });

  it('notices a changed endpoint list regardless of order', () => {
    const a = emptySnapshot();
    const b = emptySnapshot();
    a.endpoints = [{ host: '127.0.0.1', port: 1 }, { host: '127.0.0.1', port: 2 }];
    b.endpoints = [{ host: '127.0.0.1', port: 2 }, { host: '127.0.0.1', port: 1 }];
    expect(diffSnapshots(a, b).endpointsChanged).toBe(false);
    b.endpoints = [{ host: '127.0.0.1', port: 2, chain: [Buffer.from('x')] }];
    expect(diffSnapshots(a, b).endpointsChanged).toBe(true);
  });
});

describe('report chunks', () => {
  it('splits a large full report into chunks of one report, the last one marked', () => {
    const occurrences = Array.from({ length: 1201 }, (_, i) => occurrence(`/c/${i}.pem`, 0, `f${i}`));
    const chunks = fullReport(snapshot(...occurrences), ['/c']);
    expect(chunks).toHaveLength(3);
    expect(new Set(chunks.map((c) => c.reportId)).size).toBe(1);
    expect(chunks.map((c) => c.lastChunk)).toEqual([false, false, true]);
    expect(chunks.reduce((n, c) => n + c.occurrences!.length, 0)).toBe(1201);
    expect(chunks[0].bindingsIncluded && chunks[0].endpointsIncluded && chunks[0].keystoresIncluded).toBe(true);
    expect(chunks[1].bindingsIncluded).toBe(false);
  });

  it('sends an empty delta as one chunk that replaces only what changed', () => {
    const s = snapshot(occurrence('/a.pem', 0, 'f1'));
    const [chunk, ...rest] = deltaReport(s, diffSnapshots(s, s), ['/']);
    expect(rest).toHaveLength(0);
    expect(chunk).toMatchObject({ full: false, lastChunk: true, occurrences: [], removed: [], bindingsIncluded: false });
  });
});
