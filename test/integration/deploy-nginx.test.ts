// Deploys to a real nginx started on a free port: the new certificate is served (checked over TLS); a
// mismatched key, a path outside allowedPaths or a symlink escape is refused with nothing changed; a deploy
// that breaks the config test, or whose reload does nothing, is rolled back and the old certificate is
// served again.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isPathNotAllowed } from '../../agent/src/deploy/allowed-paths.js';
import { createDeployTarget } from '../../agent/src/deploy/create-target.js';
import { DeployJournal } from '../../agent/src/deploy/deploy-journal.js';
import type { DeployEnvironment } from '../../agent/src/deploy/deploy-target.js';
import { deploy, type DeployOptions } from '../../agent/src/deploy/deploy.js';
import { fullChainPem } from '../../agent/src/deploy/pem-bundle.js';
import { issueLeaf, makePki, type IssuedLeaf, type TestPki } from '../support/deploy-pki.js';
import { deployEnvironment, hashes, startNginx, writeNginx } from '../support/deploy-servers.js';
import { freePort } from '../support/free-port.js';
import { servedFingerprint, stopDaemons, type Daemon } from '../support/real-servers.js';

const NAMES = ['shop.example', 'www.shop.example'];
let base: string;
let ssl: string;
let conf: string;
let port: number;
let pki: TestPki;
let original: IssuedLeaf;
let env: DeployEnvironment;
const daemons: Daemon[] = [];
const files = () => [join(ssl, 'shop.crt'), join(ssl, 'shop.key'), join(ssl, 'dhparam.pem')];

const served = () => servedFingerprint('127.0.0.1', port, 'shop.example');
const options = (extra: Partial<DeployOptions> = {}): DeployOptions => ({
  env, stateDir: join(base, 'state'), endpoints: [{ host: '127.0.0.1', port, serverName: 'shop.example' }],
  caRoots: [pki.rootPem], validation: { attempts: 10, intervalMs: 200 }, signal: AbortSignal.timeout(30_000), ...extra,
});
const nginxTarget = (extra: Record<string, unknown> = {}) => createDeployTarget({
  kind: 'nginx', configFile: conf, prefix: base, certificatePath: join(ssl, 'shop.crt'), keyPath: join(ssl, 'shop.key'), expectedNames: NAMES, ...extra,
}, env);

async function putInPlace(leaf: IssuedLeaf): Promise<void> {
  await writeFile(join(ssl, 'shop.crt'), fullChainPem(leaf));
  await writeFile(join(ssl, 'shop.key'), leaf.keyPem, { mode: 0o600 });
}

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'certflow-deploy-nginx-'));
  ssl = join(base, 'ssl');
  await mkdir(ssl);
  await mkdir(join(base, 'outside'));
  pki = await makePki(join(base, 'pki'));
  original = await issueLeaf(pki, NAMES);
  await putInPlace(original);
  execFileSync('openssl', ['genpkey', '-genparam', '-algorithm', 'DH', '-pkeyopt', 'group:ffdhe2048', '-out', join(ssl, 'dhparam.pem')]);
  port = await freePort();
  conf = await writeNginx(base, [{ port, serverNames: NAMES, certificatePath: join(ssl, 'shop.crt'), keyPath: join(ssl, 'shop.key'), extra: `    ssl_dhparam ${ssl}/dhparam.pem;` }]);
  // nginx.conf stays outside allowedPaths, as /etc/nginx/nginx.conf would: the agent may name it, not write it.
  env = await deployEnvironment({
    allowedPaths: [ssl], serviceConfigFiles: [conf], commands: { noop: ['true'], 'broken-reload': ['sh', '-c', 'echo reload refused >&2; exit 1'] },
  });
  daemons.push(await startNginx(base, conf, port));
}, 60_000);

beforeEach(async () => {
  // Every test starts from the original certificate, loaded.
  await putInPlace(original);
  execFileSync('nginx', ['-p', base, '-c', conf, '-s', 'reload'], { stdio: 'pipe' });
  // After a graceful reload old workers may still answer for a moment: wait for three answers in a row
  // serving the original (a loaded machine can take seconds), or say why the test cannot start.
  let inARow = 0;
  for (let i = 0; i < 200 && inARow < 3; i++) {
    inARow = (await served()) === original.fingerprint256 ? inARow + 1 : 0;
    if (inARow < 3) await new Promise((r) => setTimeout(r, 100));
  }
  if (inARow < 3) throw new Error('nginx did not go back to serving the original certificate within 20 s');
});

afterAll(async () => {
  await stopDaemons(daemons);
  await rm(base, { recursive: true, force: true });
});

describe('deploying to nginx', () => {
  it('serves the new certificate after a deploy, proven by a TLS handshake, with backups and a finished journal', async () => {
    const renewed = await issueLeaf(pki, NAMES);
    const result = await deploy([await nginxTarget()], renewed, options());
    expect(result.status).toBe('deployed');
    expect(await served()).toBe(renewed.fingerprint256);
    if (result.status !== 'deployed') return;
    expect(result.validations).toMatchObject([{ ok: true, servedFingerprint256: renewed.fingerprint256 }]);
    expect(result.steps.map((s) => s.step)).toEqual(['check', 'probe', 'backup', 'journal', 'write', 'test', 'reload', 'validate']);
    expect(await readFile(join(ssl, 'shop.crt'), 'utf8')).toBe(renewed.certificatePem.trim() + '\n' + renewed.chainPem);
    const journal = new DeployJournal(join(base, 'state'));
    expect((await journal.read(result.deployId)).state).toBe('done');
    expect((await readdir(journal.backupDirOf(result.deployId))).sort()).toEqual(['0-shop.crt', '1-shop.key']);
    expect(await readdir(ssl)).toEqual(['dhparam.pem', 'shop.crt', 'shop.key']);
  });

  it('does nothing again when the same deploy id is delivered twice', async () => {
    const renewed = await issueLeaf(pki, NAMES);
    const first = await deploy([await nginxTarget()], renewed, options({ deployId: 'job-twice' }));
    const second = await deploy([await nginxTarget()], renewed, options({ deployId: 'job-twice' }));
    expect([first.status, second.status]).toEqual(['deployed', 'duplicate']);
  });

  it('refuses a key that does not match the certificate, before anything is written', async () => {
    const before = await hashes(files());
    const renewed = await issueLeaf(pki, NAMES);
    const stranger = await issueLeaf(pki, NAMES);
    const result = await deploy([await nginxTarget()], { ...renewed, keyPem: stranger.keyPem }, options({ deployId: 'mismatched' }));
    expect(result).toMatchObject({ status: 'refused', failedStep: 'check', problem: 'key-mismatch' });
    expect(await hashes(files())).toEqual(before);
    expect(await served()).toBe(original.fingerprint256);
    await expect(new DeployJournal(join(base, 'state')).read('mismatched')).rejects.toThrow(/ENOENT/);
  });

  it('refuses a certificate that does not cover the endpoint\'s name', async () => {
    const before = await hashes(files());
    const result = await deploy([await nginxTarget({ expectedNames: [] })], await issueLeaf(pki, ['other.example']), options());
    expect(result).toMatchObject({ status: 'refused', problem: 'names' });
    expect(await hashes(files())).toEqual(before);
  });

  it('rolls back when the config test fails, and the old certificate is served again', async () => {
    const before = await hashes(files());
    // An operator's mistake a config test exists to catch: a file target pointed at nginx's DH parameters.
    const misdirected = await createDeployTarget({ kind: 'file', certificatePath: join(ssl, 'dhparam.pem') }, env);
    const result = await deploy([await nginxTarget(), misdirected], await issueLeaf(pki, NAMES), options());
    expect(result).toMatchObject({ status: 'rolled-back', failedStep: 'test', rollback: { ok: true } });
    if (result.status !== 'rolled-back') return;
    expect(result.reason).toMatch(/nginx -t .*exited with status 1.*dhparam/);
    expect(result.rollback.validations).toMatchObject([{ ok: true, servedFingerprint256: original.fingerprint256 }]);
    expect(await hashes(files())).toEqual(before);
    expect(await served()).toBe(original.fingerprint256);
    expect((await new DeployJournal(join(base, 'state')).read(result.deployId)).state).toBe('rolled-back');
  });

  it('rolls back when the new certificate is not served after the reload (a reload that does nothing)', async () => {
    const before = await hashes(files());
    const result = await deploy([await nginxTarget({ reloadCommand: 'noop' })], await issueLeaf(pki, NAMES), options({ validation: { attempts: 3, intervalMs: 100 } }));
    expect(result).toMatchObject({ status: 'rolled-back', failedStep: 'validate', rollback: { ok: true } });
    if (result.status !== 'rolled-back') return;
    expect(result.validations).toMatchObject([{ ok: false, failure: 'fingerprint', servedFingerprint256: original.fingerprint256, attempts: 3 }]);
    expect(await hashes(files())).toEqual(before);
    expect(await served()).toBe(original.fingerprint256);
  });

  it('refuses a target whose files are outside allowedPaths or behind a symlink that leads outside', async () => {
    await expect(nginxTarget({ certificatePath: join(base, 'outside/shop.crt') })).rejects.toSatisfy(isPathNotAllowed);
    await symlink(join(base, 'outside'), join(ssl, 'escape'));
    try {
      await expect(nginxTarget({ keyPath: join(ssl, 'escape/shop.key') })).rejects.toThrow(/outside the agent's allowedPaths \(it resolves to/);
    } finally {
      await unlink(join(ssl, 'escape'));
    }
  });

  it('refuses at write time a symlink planted after the target was built, changing nothing', async () => {
    const target = await nginxTarget();
    const before = await hashes(files());
    await writeFile(join(base, 'outside/victim'), 'not a certificate');
    await rm(join(ssl, 'shop.key'));
    await symlink(join(base, 'outside/victim'), join(ssl, 'shop.key'));
    try {
      const result = await deploy([target], await issueLeaf(pki, NAMES), options());
      expect(result).toMatchObject({ status: 'refused', problem: 'path' });
      expect(await readFile(join(base, 'outside/victim'), 'utf8')).toBe('not a certificate');
    } finally {
      await unlink(join(ssl, 'shop.key'));
      await putInPlace(original);
    }
    expect(await hashes(files())).toEqual(before);
  });

  it('reports a rollback that cannot reload the service as its own state, with the files restored', async () => {
    const before = await hashes(files());
    const result = await deploy([await nginxTarget({ reloadCommand: 'broken-reload' })], await issueLeaf(pki, NAMES), options());
    expect(result).toMatchObject({ status: 'rollback-failed', failedStep: 'reload', rollback: { ok: false, restoreFailures: [] } });
    if (result.status !== 'rollback-failed') return;
    expect(result.rollback.reason).toMatch(/could not reload nginx .*reload refused/);
    expect(await hashes(files())).toEqual(before);
    expect((await new DeployJournal(join(base, 'state')).read(result.deployId)).state).toBe('rollback-failed');
  });

  it('refuses a service prefix that is neither the config\'s directory nor inside allowedPaths', async () => {
    await expect(nginxTarget({ prefix: join(base, 'outside') })).rejects.toThrow(/service directory must be/);
  });

  it('refuses a reload command that is not in the agent\'s allowlist', async () => {
    await expect(nginxTarget({ reloadCommand: 'rm-rf' })).rejects.toThrow(/"rm-rf" is not in the agent's command allowlist/);
  });
});
