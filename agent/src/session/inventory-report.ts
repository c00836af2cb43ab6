// Turns a scan of the configured roots into inventory report chunks. Only certificates (their DER) and
// problems go out; private keys found on the way are never read into a report.
import { randomUUID } from 'node:crypto';
import type { InventoryReport } from '../../../proto/generated/certflow/agent/v1/InventoryReport.js';
import { scanPaths } from '../discovery/file-scanner.js';

const OCCURRENCES_PER_CHUNK = 500;

export async function* fullInventoryChunks(roots: string[], signal?: AbortSignal): AsyncGenerator<InventoryReport> {
  const reportId = randomUUID();
  let chunkIndex = 0;
  let chunk: InventoryReport = newChunk(reportId, chunkIndex, roots);
  for await (const event of scanPaths(roots, { signal })) {
    if (event.type === 'certificate') {
      chunk.occurrences!.push({ path: event.path, index: event.index, format: event.format, der: event.der });
    } else {
      chunk.problems!.push({ path: event.path, message: event.message });
    }
    if (chunk.occurrences!.length + chunk.problems!.length >= OCCURRENCES_PER_CHUNK) {
      yield chunk;
      chunk = newChunk(reportId, ++chunkIndex, roots);
    }
  }
  chunk.lastChunk = true;
  yield chunk;
}

function newChunk(reportId: string, chunkIndex: number, roots: string[]): InventoryReport {
  return { reportId, chunkIndex, lastChunk: false, full: true, occurrences: [], problems: [], scannedRoots: chunkIndex === 0 ? roots : [] };
}
