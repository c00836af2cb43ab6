// Deploys to a real master-worker HAProxy: one combined PEM (leaf, chain, key) per certificate, found through
// each way a bind names it (crt FILE, crt DIRECTORY, crt-list), reloaded by SIGUSR2 to the master; the new
// certificate is served for its name, the others are untouched, and a new file that fails is removed again.
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeployTarget } from '../../agent/src/deploy/create-target.js';
import type { DeployEnvironment } from '../../agent/src/deploy/deploy-target.js';
import { deploy, type DeployOptions } from '../../agent/src/deploy/deploy.js';
import { combinedPem } from '../../agent/src/deploy/pem-bundle.js';
import { parseCertificates } from '../../agent/src/deploy/pem-bundle.js';
import { issueLeaf, makePki, type IssuedLeaf, type TestPki } from '../support/deploy-pki.js';
import { deployEnvironment, hashes, startHaproxy, writeHaproxy } from '../support/deploy-servers.js';
import { freePort } from '../support/free-port.js';
import { servedFingerprint, stopDaemons, type Daemon } from '../support/real-servers.js';

let base: string;
let certs: string;
let conf: string;
let ports: { file: number; dir: number; list: number };
let pki: TestPki;
let env: DeployEnvironment;
const daemons: Daemon[] = [];
const old: Record<string, IssuedLeaf> = {};

const options = (port: number, serverName: string, extra: Partial<DeployOptions> = {}): DeployOptions => ({
  env, stateDir: join(base, 'state'), endpoints: [{ host: '127.0.0.1', port, serverName }], caRoots: [pki.rootPem],
  validation: { attempts: 15, intervalMs: 200 }, signal: AbortSignal.timeout(30_000), ...extra,
});
const target = (location: Record<string, unknown>, expectedNames: string[], extra: Record<string, unknown> = {}) => createDeployTarget({
  kind: 'haproxy', configFile: conf, location, masterPidFile: join(base, 'haproxy.pid'), expectedNames, ...extra,
} as Parameters<typeof createDeployTarget>[0], env);

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'certflow-deploy-haproxy-'));
  certs = join(base, 'certs');
  await mkdir(join(certs, 'dir'), { recursive: true });
  pki = await makePki(join(base, 'pki'));
  for (const name of ['shop.example', 'blog.example', 'api.example', 'other.example']) old[name] = await issueLeaf(pki, [name]);
  await writeFile(join(certs, 'shop.pem'), combinedPem(old['shop.example']), { mode: 0o600 });
  await writeFile(join(certs, 'dir/blog.example.pem'), combinedPem(old['blog.example']), { mode: 0o600 });
  await writeFile(join(certs, 'api.pem'), combinedPem(old['api.example']), { mode: 0o600 });
  await writeFile(join(certs, 'other.pem'), combinedPem(old['other.example']), { mode: 0o600 });
  await writeFile(join(base, 'crt-list.txt'), '# certificate [options] [SNI filters]\nother.pem [alpn http/1.1] other.example\napi.pem api.example\n');
  ports = { file: await freePort(), dir: await freePort(), list: await freePort() };
  conf = await writeHaproxy(base, [
    { port: ports.file, crt: `crt ${certs}/shop.pem` },
    { port: ports.dir, crt: `crt ${certs}/dir` },
    { port: ports.list, crt: `crt-list ${base}/crt-list.txt` },
  ], certs);
  env = await deployEnvironment({ allowedPaths: [certs], serviceConfigFiles: [conf, join(base, 'crt-list.txt')], commands: { noop: ['true'] } });
  daemons.push(await startHaproxy(base, conf, ports.list));
}, 60_000);

afterAll(async () => {
  await stopDaemons(daemons);
  await rm(base, { recursive: true, force: true });
});

describe('deploying to HAProxy', () => {
  it('writes the combined PEM of a `crt FILE` bind and serves it after SIGUSR2 to the master', async () => {
    const renewed = await issueLeaf(pki, ['shop.example']);
    const result = await deploy([await target({ form: 'file', path: join(certs, 'shop.pem') }, ['shop.example'])], renewed, options(ports.file, 'shop.example'));
    expect(result.status).toBe('deployed');
    expect(await servedFingerprint('127.0.0.1', ports.file, 'shop.example')).toBe(renewed.fingerprint256);
    const pem = await readFile(join(certs, 'shop.pem'), 'utf8');
    expect(parseCertificates(pem).map((c) => c.fingerprint256)).toEqual([renewed.fingerprint256, parseCertificates(pki.intermediatePem)[0].fingerprint256]);
    expect(pem).toContain('PRIVATE KEY');
  });

  it('writes the file named for the certificate in a `crt DIRECTORY` bind', async () => {
    const renewed = await issueLeaf(pki, ['blog.example']);
    const result = await deploy([await target({ form: 'directory', directory: join(certs, 'dir') }, ['blog.example'])], renewed, options(ports.dir, 'blog.example'));
    expect(result).toMatchObject({ status: 'deployed', changedFiles: [join(certs, 'dir/blog.example.pem')] });
    expect(await servedFingerprint('127.0.0.1', ports.dir, 'blog.example')).toBe(renewed.fingerprint256);
  });

  it('writes the file on the crt-list line that filters on the name, leaving the other lines alone', async () => {
    const before = await hashes([join(certs, 'other.pem')]);
    const renewed = await issueLeaf(pki, ['api.example']);
    const result = await deploy([await target({ form: 'crt-list', crtList: join(base, 'crt-list.txt'), crtBase: certs }, ['api.example'])],
      renewed, options(ports.list, 'api.example'));
    expect(result).toMatchObject({ status: 'deployed', changedFiles: [join(certs, 'api.pem')] });
    expect(await servedFingerprint('127.0.0.1', ports.list, 'api.example')).toBe(renewed.fingerprint256);
    expect(await servedFingerprint('127.0.0.1', ports.list, 'other.example')).toBe(old['other.example'].fingerprint256);
    expect(await hashes([join(certs, 'other.pem')])).toEqual(before);
  });

  it('removes a new file again when its deploy is rolled back', async () => {
    const fresh = await issueLeaf(pki, ['new.example']);
    const result = await deploy([await target({ form: 'directory', directory: join(certs, 'dir') }, ['new.example'], { reloadCommand: 'noop' })],
      fresh, options(ports.dir, 'new.example', { validation: { attempts: 2, intervalMs: 100 } }));
    expect(result).toMatchObject({ status: 'rolled-back', failedStep: 'validate', rollback: { ok: true } });
    expect(await readdir(join(certs, 'dir'))).toEqual(['blog.example.pem']);
  });

  it('refuses a pid file that does not name a haproxy process', async () => {
    await writeFile(join(base, 'not-haproxy.pid'), `${process.pid}\n`);
    const t = await target({ form: 'file', path: join(certs, 'shop.pem') }, ['shop.example'], { masterPidFile: join(base, 'not-haproxy.pid') });
    await expect(t.reload(AbortSignal.timeout(5000))).rejects.toThrow(/is not haproxy \(it is "node"\)/);
  });
});
