// Every regular file below a directory, in byte order of path: what Apache reads for `Include DIR`.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

export async function listFilesRecursively(dir: string, signal?: AbortSignal, depth = 0): Promise<string[]> {
  signal?.throwIfAborted();
  // A directory tree included by mistake (Include /) must not walk the whole disk: configs are shallow.
  if (depth > 16) return [];
  const names = (await readdir(dir).catch(() => [] as string[])).sort();
  const files: string[] = [];
  for (const name of names) {
    const path = join(dir, name);
    const stats = await stat(path).catch(() => null);
    if (stats?.isDirectory()) files.push(...(await listFilesRecursively(path, signal, depth + 1)));
    else if (stats?.isFile()) files.push(path);
  }
  return files;
}
