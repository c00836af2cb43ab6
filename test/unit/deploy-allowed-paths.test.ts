// Where a deploy may write: inside the agent's allowedPaths by real path, with `..` and symlink escapes refused.
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PathNotAllowedError, isInside, resolveAllowedRoots, resolveReadablePath, resolveWritableDirectory, resolveWritablePath,
} from '../../agent/src/deploy/allowed-paths.js';

let base: string;
let allowed: string;
let roots: string[];

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'certflow-allowed-'));
  allowed = join(base, 'allowed');
  await mkdir(join(allowed, 'ssl'), { recursive: true });
  await mkdir(join(allowed, 'other'), { recursive: true });
  await mkdir(join(base, 'allowed-evil'), { recursive: true });
  await mkdir(join(base, 'outside'), { recursive: true });
  await writeFile(join(base, 'outside/secret'), 'secret');
  await writeFile(join(allowed, 'ssl/site.crt'), 'old');
  await writeFile(join(allowed, 'other/real.crt'), 'old');
  await symlink(join(base, 'outside'), join(allowed, 'escape-dir'));
  await symlink(join(allowed, 'other'), join(allowed, 'inside-dir'));
  await symlink(join(base, 'outside/secret'), join(allowed, 'ssl/escape.crt'));
  await symlink(join(allowed, 'other/real.crt'), join(allowed, 'ssl/live.crt'));
  await symlink(join(allowed, 'nowhere.crt'), join(allowed, 'ssl/dangling.crt'));
  await symlink(allowed, join(base, 'allowed-link'));
  roots = await resolveAllowedRoots([join(base, 'allowed-link'), join(base, 'does-not-exist')]);
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

const refused = async (path: string, reason: RegExp) => {
  const error = await resolveWritablePath(path, roots).catch((err: unknown) => err);
  expect(error).toBeInstanceOf(PathNotAllowedError);
  expect((error as Error).message).toMatch(reason);
};

describe('resolveWritablePath', () => {
  it('resolves allowed roots to real paths and drops the ones that do not exist', () => {
    expect(roots).toEqual([allowed]);
  });

  it('allows an existing file and a new file inside an allowed root', async () => {
    expect(await resolveWritablePath(join(allowed, 'ssl/site.crt'), roots)).toBe(join(allowed, 'ssl/site.crt'));
    expect(await resolveWritablePath(join(allowed, 'ssl/new.crt'), roots)).toBe(join(allowed, 'ssl/new.crt'));
  });

  it('allows a path given through a symlinked allowed root, as its real path', async () => {
    expect(await resolveWritablePath(join(base, 'allowed-link/ssl/site.crt'), roots)).toBe(join(allowed, 'ssl/site.crt'));
  });

  it('refuses a path outside every allowed root', async () => {
    await refused(join(base, 'outside/secret'), /outside the agent's allowedPaths/);
  });

  it('refuses a sibling directory that only shares the root\'s name as a prefix', async () => {
    await refused(join(base, 'allowed-evil/site.crt'), /outside/);
  });

  it('refuses any ".." segment, even one that would land inside', async () => {
    await refused(`${allowed}/ssl/../ssl/site.crt`, /"\.\." segment/);
    await refused(`${allowed}/ssl/../../outside/secret`, /"\.\." segment/);
  });

  it('refuses relative paths and NUL bytes', async () => {
    await refused('ssl/site.crt', /not absolute/);
    await refused(`${allowed}/ssl/site.crt\0.pem`, /NUL/);
  });

  it('refuses a directory symlink in the path that leads outside', async () => {
    await refused(join(allowed, 'escape-dir/secret'), /outside.*resolves to/);
  });

  it('allows a directory symlink that stays inside', async () => {
    expect(await resolveWritablePath(join(allowed, 'inside-dir/real.crt'), roots)).toBe(join(allowed, 'other/real.crt'));
  });

  it('refuses writing through a symlink at the target that leads outside', async () => {
    await refused(join(allowed, 'ssl/escape.crt'), /symlink's target is outside/);
  });

  it('writes through a symlink at the target that resolves inside, to its real file', async () => {
    expect(await resolveWritablePath(join(allowed, 'ssl/live.crt'), roots)).toBe(join(allowed, 'other/real.crt'));
  });

  it('refuses a dangling symlink, a directory, a missing directory and the root itself', async () => {
    await refused(join(allowed, 'ssl/dangling.crt'), /symlink that cannot be resolved/);
    await refused(join(allowed, 'ssl'), /not a regular file/);
    await refused(join(allowed, 'missing/site.crt'), /directory cannot be resolved/);
    await refused(allowed, /outside/);
  });

  it('allows nothing when allowedPaths is empty', async () => {
    await expect(resolveWritablePath(join(allowed, 'ssl/site.crt'), [])).rejects.toThrow(PathNotAllowedError);
  });
});

describe('resolveReadablePath and resolveWritableDirectory', () => {
  it('reads inside the roots or one of the named service configs, nothing else', async () => {
    expect(await resolveReadablePath(join(allowed, 'ssl/site.crt'), roots)).toBe(join(allowed, 'ssl/site.crt'));
    expect(await resolveReadablePath(join(base, 'outside/secret'), roots, [join(base, 'outside/secret')])).toBe(join(base, 'outside/secret'));
    await expect(resolveReadablePath(join(base, 'outside/secret'), roots)).rejects.toThrow(/outside/);
    await expect(resolveReadablePath(join(allowed, 'ssl/escape.crt'), roots)).rejects.toThrow(/resolves to/);
  });

  it('takes a root itself or a directory inside as a directory to write into', async () => {
    expect(await resolveWritableDirectory(allowed, roots)).toBe(allowed);
    expect(await resolveWritableDirectory(join(allowed, 'inside-dir'), roots)).toBe(join(allowed, 'other'));
    await expect(resolveWritableDirectory(join(allowed, 'escape-dir'), roots)).rejects.toThrow(/outside/);
  });

  it('compares by path segments', () => {
    expect(isInside('/a/b', '/a/b/c')).toBe(true);
    expect(isInside('/a/b', '/a/bc')).toBe(false);
    expect(isInside('/a/b', '/a/b')).toBe(false);
    expect(isInside('/a/b', '/a/b/..c')).toBe(true);
  });
});
