// Plain-file and PKCS#12 targets: each file gets its part with the owner, group and mode asked for, the
// allowlisted reload command runs, a keystore opens with its password and holds the right key and chain,
// and a disk that fills up mid-deploy leaves every old file in place and no temporary file behind.
import { execFileSync } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChunkWriter } from '../../agent/src/deploy/atomic-write.js';
import { createDeployTarget } from '../../agent/src/deploy/create-target.js';
import type { DeployEnvironment } from '../../agent/src/deploy/deploy-target.js';
import { deploy, type DeployOptions } from '../../agent/src/deploy/deploy.js';
import { fullChainPem } from '../../agent/src/deploy/pem-bundle.js';
import { issueLeaf, makePki, type TestPki } from '../support/deploy-pki.js';
import { deployEnvironment, hashes } from '../support/deploy-servers.js';

let base: string;
let out: string;
let pki: TestPki;
let env: DeployEnvironment;

const options = (extra: Partial<DeployOptions> = {}): DeployOptions => ({
  env, stateDir: join(base, 'state'), endpoints: [], caRoots: [pki.rootPem], signal: AbortSignal.timeout(30_000), ...extra,
});

function gidOf(group: string): number {
  return Number(execFileSync('getent', ['group', group]).toString().split(':')[2]);
}

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'certflow-deploy-files-'));
  out = join(base, 'out');
  await mkdir(out);
  pki = await makePki(join(base, 'pki'));
  env = await deployEnvironment({ allowedPaths: [out], commands: {
    'mark-reloaded': ['touch', join(base, 'reloaded')],
    // A service that accepts only its old file: fails on the new content, passes again once it is restored.
    'accepts-only-old': ['grep', '-q', '^old', join(out, 'three.crt')],
  } });
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('the file target', () => {
  it('writes certificate, chain, full chain and key with the owner, group and modes asked for, then runs its reload command', async () => {
    const leaf = await issueLeaf(pki, ['mail.example']);
    const target = await createDeployTarget({
      kind: 'file', certificatePath: join(out, 'mail.crt'), chainPath: join(out, 'mail-chain.crt'), fullChainPath: join(out, 'mail-full.crt'),
      keyPath: join(out, 'mail.key'), owner: 'nobody', group: 'www-data', mode: '0644', keyMode: '0640', reloadCommand: 'mark-reloaded',
    }, env);
    const result = await deploy([target], leaf, options());
    expect(result.status).toBe('deployed');
    expect(await readFile(join(out, 'mail.crt'), 'utf8')).toBe(leaf.certificatePem);
    expect(await readFile(join(out, 'mail-chain.crt'), 'utf8')).toBe(pki.intermediatePem);
    expect(await readFile(join(out, 'mail-full.crt'), 'utf8')).toBe(fullChainPem(leaf));
    expect(createPrivateKey(await readFile(join(out, 'mail.key'))).asymmetricKeyType).toBe('ec');
    const wwwData = gidOf('www-data');
    for (const [file, mode] of [['mail.crt', 0o644], ['mail-chain.crt', 0o644], ['mail-full.crt', 0o644], ['mail.key', 0o640]] as const) {
      const s = await stat(join(out, file));
      expect({ file, uid: s.uid, gid: s.gid, mode: s.mode & 0o777 }).toEqual({ file, uid: 65534, gid: wwwData, mode });
    }
    await expect(stat(join(base, 'reloaded'))).resolves.toBeTruthy();
  });

  it('keeps the owner and mode of files it replaces when none are asked for', async () => {
    await writeFile(join(out, 'keep.crt'), 'old', { mode: 0o640 });
    execFileSync('chown', ['65534:65534', join(out, 'keep.crt')]);
    const target = await createDeployTarget({ kind: 'file', fullChainPath: join(out, 'keep.crt') }, env);
    expect((await deploy([target], await issueLeaf(pki, ['keep.example']), options())).status).toBe('deployed');
    const s = await stat(join(out, 'keep.crt'));
    expect([s.uid, s.gid, s.mode & 0o777]).toEqual([65534, 65534, 0o640]);
  });

  it('refuses an unknown owner and an option it does not know when the target is built', async () => {
    await expect(createDeployTarget({ kind: 'file', keyPath: join(out, 'x.key'), owner: 'no-such-user-here' }, env)).rejects.toThrow(/unknown owner/);
    await expect(createDeployTarget({ kind: 'file', keyPath: join(out, 'x.key'), shell: 'rm -rf /' } as never, env)).rejects.toThrow(/file target: option "\(root\)"|shell/);
    await expect(createDeployTarget({ kind: 'file' }, env)).rejects.toThrow(/name at least one/);
  });

  it('rolls back every target of a deploy when the third one fails its test', async () => {
    const paths = ['one.crt', 'two.crt', 'three.crt'].map((n) => join(out, n));
    for (const p of paths) await writeFile(p, `old ${p}`);
    const before = await hashes(paths);
    const targets = await Promise.all(paths.map((p, i) => createDeployTarget({ kind: 'file', fullChainPath: p, ...(i === 2 ? { testCommand: 'accepts-only-old' } : {}) }, env)));
    const result = await deploy(targets, await issueLeaf(pki, ['three.example']), options());
    expect(result).toMatchObject({ status: 'rolled-back', failedStep: 'test', rollback: { ok: true, restoredFiles: paths } });
    expect(await hashes(paths)).toEqual(before);
  });

  it('leaves every old file in place and no temporary file behind when the disk fills up mid-deploy', async () => {
    const names = ['disk.crt', 'disk.key'];
    for (const n of names) await writeFile(join(out, n), `old ${n}`);
    const before = await hashes(names.map((n) => join(out, n)));
    const target = await createDeployTarget({ kind: 'file', fullChainPath: join(out, 'disk.crt'), keyPath: join(out, 'disk.key') }, env);
    const leaf = await issueLeaf(pki, ['disk.example']);
    // The backups and the first new file fit; the disk fills while the second (the key) is being staged.
    let written = 0;
    const backups = (await Promise.all(names.map((n) => readFile(join(out, n))))).reduce((sum, b) => sum + b.length, 0);
    const capacity = backups + fullChainPem(leaf).length + 50;
    const writeChunk: ChunkWriter = async (handle, chunk, position) => {
      if (written + chunk.length > capacity) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      written += chunk.length;
      return (await handle.write(chunk, 0, chunk.length, position)).bytesWritten;
    };
    const result = await deploy([target], leaf, options({ writeChunk }));
    expect(result).toMatchObject({ status: 'failed', failedStep: 'write' });
    if (result.status === 'failed') expect(result.reason).toMatch(/ENOSPC/);
    expect(await hashes(names.map((n) => join(out, n)))).toEqual(before);
    expect((await readdir(out)).filter((n) => n.includes('.certflow-'))).toEqual([]);
  });
});

describe('the PKCS#12 target', () => {
  const readBack = (path: string, password: string, args: string[]) =>
    execFileSync('openssl', ['pkcs12', '-in', path, '-passin', `pass:${password}`, ...args], { stdio: 'pipe' }).toString();

  for (const key of ['rsa', 'ec'] as const) {
    it(`writes a keystore (${key.toUpperCase()} key) that opens with the password and holds the key, the leaf and the chain`, async () => {
      const leaf = await issueLeaf(pki, ['tomcat.example'], { key });
      const path = join(out, `tomcat-${key}.p12`);
      const target = await createDeployTarget({ kind: 'pkcs12', path, alias: 'tomcat' }, env);
      const result = await deploy([target], { ...leaf, pkcs12Password: 'changeit-too' }, options());
      expect(result.status).toBe('deployed');
      expect((await stat(path)).mode & 0o777).toBe(0o600);
      const certificates = readBack(path, 'changeit-too', ['-nokeys']);
      const fingerprints = [...certificates.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)].map((m) => new X509Certificate(m[0]).fingerprint256);
      expect(fingerprints.sort()).toEqual([leaf.fingerprint256, new X509Certificate(pki.intermediatePem).fingerprint256].sort());
      expect(certificates).toContain('friendlyName: tomcat');
      const keyPem = readBack(path, 'changeit-too', ['-nocerts', '-nodes']);
      expect(new X509Certificate(leaf.certificatePem).checkPrivateKey(createPrivateKey(keyPem.slice(keyPem.indexOf('-----BEGIN'))))).toBe(true);
      expect(() => readBack(path, 'wrong', ['-nokeys'])).toThrow();
    });
  }

  it('refuses material without a password, writing nothing', async () => {
    const target = await createDeployTarget({ kind: 'pkcs12', path: join(out, 'nopass.p12') }, env);
    const result = await deploy([target], await issueLeaf(pki, ['tomcat.example']), options());
    expect(result).toMatchObject({ status: 'refused', problem: 'missing-password' });
    expect((await readdir(out)).includes('nopass.p12')).toBe(false);
  });
});
