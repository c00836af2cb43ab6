// The agent's host monitor on a real directory: a full report first, then only what changed, noticed by
// inotify without waiting for the periodic rescan.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { HostMonitor } from '../../agent/src/monitor/host-monitor.js';
import type { AgentConfig } from '../../agent/src/config.js';
import type { InventoryReport } from '../../proto/generated/certflow/agent/v1/InventoryReport.js';
import { makeCertificate } from '../support/certificates.js';
import { eventually } from '../support/processes.js';

let dir: string;
const reports: InventoryReport[][] = [];
const stop = new AbortController();
let monitor: HostMonitor;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'certflow-mon-'));
  await writeFile(join(dir, 'first.pem'), (await makeCertificate({ commonName: 'first.test' })).pem);
  const config = {
    scan: { paths: [dir], intervalSeconds: 3600, include: [], exclude: [], maxFileBytes: 10 * 1024 * 1024, keystorePasswords: [] },
    discovery: {
      configs: { enabled: false }, endpoints: { enabled: false, intervalSeconds: 3600, timeoutMs: 1000, maxTargets: 10, excludePorts: [] },
      networkScan: { allowedRanges: [], maxAddresses: 1, ratePerSecond: 1 }, watch: true,
    },
  } as unknown as AgentConfig;
  monitor = new HostMonitor(config, pino({ level: 'silent' }), async (chunks) => {
    reports.push(chunks);
  });
  await monitor.start({ ranges: [], ports: [] }, stop.signal);
});

afterAll(async () => {
  stop.abort();
  await rm(dir, { recursive: true, force: true });
});

const subjectsOf = (chunks: InventoryReport[]) => chunks.flatMap((c) => c.occurrences ?? []).map((o) => o.path!.replace(dir, ''));

describe('the host monitor', () => {
  it('sends a full report when it starts', () => {
    expect(reports).toHaveLength(1);
    expect(reports[0][0].full).toBe(true);
    expect(subjectsOf(reports[0])).toEqual(['/first.pem']);
  });

  it('sends only the new certificate soon after a file appears', async () => {
    await writeFile(join(dir, 'second.pem'), (await makeCertificate({ commonName: 'second.test' })).pem);
    const delta = await eventually(async () => reports[1], 15_000, 'a delta report');
    expect(delta[0].full).toBe(false);
    expect(subjectsOf(delta)).toEqual(['/second.pem']);
    expect(delta[0].removed).toEqual([]);
  });

  it('sends the removal when a file disappears', async () => {
    await rm(join(dir, 'first.pem'));
    const delta = await eventually(async () => reports[2], 15_000, 'a second delta');
    expect(delta[0].full).toBe(false);
    expect(subjectsOf(delta)).toEqual([]);
    expect(delta[0].removed).toEqual([{ path: join(dir, 'first.pem'), index: 0 }]);
  });

  it('sends a full report when a rescan is asked for', async () => {
    await monitor.rescan(stop.signal);
    expect(reports).toHaveLength(4);
    expect(reports[3][0].full).toBe(true);
  });
});
