// Atomic replacement: the old file stays whole until the new one is complete and durable, and a failure
// mid-write (a full disk) leaves the old file and no temporary file behind.
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AtomicWriteError, commitStaged, discardStaged, stageFile, writeFileAtomic, type ChunkWriter,
} from '../../agent/src/deploy/atomic-write.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'certflow-atomic-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A disk that fills up after `capacity` bytes: the write that crosses it fails with ENOSPC, as write(2) does. */
function diskFullAfter(capacity: number): ChunkWriter {
  let used = 0;
  return async (handle, chunk, position) => {
    const room = capacity - used;
    if (room <= 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28 });
    const part = chunk.subarray(0, Math.min(room, chunk.length));
    const { bytesWritten } = await handle.write(part, 0, part.length, position);
    used += bytesWritten;
    return bytesWritten;
  };
}

describe('writeFileAtomic', () => {
  it('replaces a file with the new content and mode, leaving no temporary file', async () => {
    const path = join(dir, 'site.crt');
    await writeFile(path, 'old', { mode: 0o644 });
    await writeFileAtomic(path, Buffer.from('new content'), { mode: 0o640 });
    expect(await readFile(path, 'utf8')).toBe('new content');
    expect((await stat(path)).mode & 0o777).toBe(0o640);
    expect(await readdir(dir)).toEqual(['site.crt']);
  });

  it('sets the owner and group it is given', async () => {
    const path = join(dir, 'owned.key');
    await writeFileAtomic(path, Buffer.from('key'), { mode: 0o600, uid: 65534, gid: 65534 });
    const stats = await stat(path);
    expect([stats.uid, stats.gid, stats.mode & 0o777]).toEqual([65534, 65534, 0o600]);
  });

  it('leaves the old file and no temporary file when the disk fills up mid-write', async () => {
    const path = join(dir, 'site.crt');
    await writeFile(path, 'old content');
    const big = Buffer.alloc(200 * 1024, 'x');
    const error = await writeFileAtomic(path, big, { mode: 0o644 }, { writeChunk: diskFullAfter(100 * 1024) }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(AtomicWriteError);
    expect((error as AtomicWriteError).code).toBe('ENOSPC');
    expect(await readFile(path, 'utf8')).toBe('old content');
    expect(await readdir(dir)).toEqual(['site.crt']);
  });

  it('fails the same way when the disk is full from the first byte', async () => {
    const path = join(dir, 'new.crt');
    await expect(writeFileAtomic(path, Buffer.from('x'), { mode: 0o644 }, { writeChunk: diskFullAfter(0) })).rejects.toThrow(/ENOSPC/);
    expect(await readdir(dir)).toEqual([]);
  });

  it('fails on a short write that makes no progress instead of looping', async () => {
    const path = join(dir, 'stuck.crt');
    await expect(writeFileAtomic(path, Buffer.from('abc'), { mode: 0o644 }, { writeChunk: async () => 0 })).rejects.toThrow(/short write/);
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('staging', () => {
  it('keeps the old content visible until the staged file is committed', async () => {
    const path = join(dir, 'site.crt');
    await writeFile(path, 'old');
    const staged = await stageFile(path, Buffer.from('new'), { mode: 0o644 });
    expect(staged.tempPath.startsWith(join(dir, '.site.crt.certflow-'))).toBe(true);
    expect(await readFile(path, 'utf8')).toBe('old');
    await commitStaged(staged);
    expect(await readFile(path, 'utf8')).toBe('new');
    expect(await readdir(dir)).toEqual(['site.crt']);
  });

  it('discards a staged file without touching the target', async () => {
    const path = join(dir, 'site.crt');
    await writeFile(path, 'old');
    await discardStaged(await stageFile(path, Buffer.from('new'), { mode: 0o644 }));
    expect(await readdir(dir)).toEqual(['site.crt']);
    expect(await readFile(path, 'utf8')).toBe('old');
  });

  it('never reuses an existing temporary name', async () => {
    const path = join(dir, 'site.crt');
    await writeFile(join(dir, 'taken.tmp'), 'someone else');
    await expect(stageFile(path, Buffer.from('new'), { mode: 0o644 }, { tempPath: join(dir, 'taken.tmp') })).rejects.toThrow(/EEXIST/);
    expect(await readFile(join(dir, 'taken.tmp'), 'utf8')).toBe('someone else');
  });
});
