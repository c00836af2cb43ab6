// The one conformance suite every DeployTarget kind passes: planning writes nothing, every planned file is
// inside allowedPaths, the private key only goes to files marked secret, the options survive the journal's
// JSON round trip (recovery rebuilds targets from them), and unknown options, paths outside allowedPaths and
// commands outside the allowlist are refused when the target is built.
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PathNotAllowedError, isInside } from '../../agent/src/deploy/allowed-paths.js';
import { createDeployTarget, type TargetOptions } from '../../agent/src/deploy/create-target.js';
import { TargetOptionsError, type DeployEnvironment, type DeployMaterial } from '../../agent/src/deploy/deploy-target.js';
import { parseCertificates } from '../../agent/src/deploy/pem-bundle.js';
import { issueLeaf, makePki } from '../support/deploy-pki.js';
import { deployEnvironment } from '../support/deploy-servers.js';

let base: string;
let allowed: string;
let env: DeployEnvironment;
let material: DeployMaterial & { fingerprint256: string };

const kinds: Record<string, (dir: string) => TargetOptions> = {
  nginx: (dir) => ({ kind: 'nginx', configFile: join(dir, 'nginx.conf'), certificatePath: join(dir, 'site.crt'), keyPath: join(dir, 'site.key'), expectedNames: ['conf.example'] }),
  'nginx (combined file)': (dir) => ({ kind: 'nginx', configFile: join(dir, 'nginx.conf'), certificatePath: join(dir, 'site.pem'), keyPath: join(dir, 'site.pem') }),
  apache: (dir) => ({ kind: 'apache', configFile: join(dir, 'apache2.conf'), certificatePath: join(dir, 'site.crt'), keyPath: join(dir, 'site.key'), chainPath: join(dir, 'chain.crt') }),
  'apache (key in the certificate file)': (dir) => ({ kind: 'apache', configFile: join(dir, 'apache2.conf'), certificatePath: join(dir, 'site.pem') }),
  'haproxy (file)': (dir) => ({ kind: 'haproxy', configFile: join(dir, 'haproxy.cfg'), location: { form: 'file', path: join(dir, 'site.pem') }, reloadCommand: 'reload' }),
  'haproxy (directory)': (dir) => ({ kind: 'haproxy', configFile: join(dir, 'haproxy.cfg'), location: { form: 'directory', directory: join(dir, 'certs') }, masterPidFile: join(dir, 'haproxy.pid'), expectedNames: ['*.conf.example'] }),
  'haproxy (crt-list)': (dir) => ({ kind: 'haproxy', configFile: join(dir, 'haproxy.cfg'), location: { form: 'crt-list', crtList: join(dir, 'list.txt'), crtBase: join(dir, 'certs') }, reloadCommand: 'reload', expectedNames: ['conf.example'] }),
  file: (dir) => ({ kind: 'file', certificatePath: join(dir, 'c.crt'), chainPath: join(dir, 'ch.crt'), fullChainPath: join(dir, 'f.crt'), keyPath: join(dir, 'k.key'), mode: '0644', reloadCommand: 'reload' }),
  pkcs12: (dir) => ({ kind: 'pkcs12', path: join(dir, 'store.p12'), alias: 'tomcat' }),
};

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'certflow-conformance-'));
  allowed = join(base, 'allowed');
  await mkdir(join(allowed, 'certs'), { recursive: true });
  await mkdir(join(base, 'outside/certs'), { recursive: true });
  for (const f of ['nginx.conf', 'apache2.conf', 'haproxy.cfg']) await writeFile(join(allowed, f), '# config\n');
  await writeFile(join(allowed, 'list.txt'), 'other.pem other.example\nsite.pem [alpn h2] conf.example www.conf.example\n');
  env = await deployEnvironment({ allowedPaths: [allowed], commands: { reload: ['true'] } });
  const leaf = await issueLeaf(await makePki(join(base, 'pki')), ['conf.example', '*.conf.example']);
  material = { ...leaf, pkcs12Password: 'secret' };
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

describe.each(Object.entries(kinds))('the %s target', (_, optionsFor) => {
  it('plans files inside allowedPaths, writing nothing, with the key only in secret files', async () => {
    const target = await createDeployTarget(optionsFor(allowed), env);
    const before = await readdir(allowed, { recursive: true });
    const writes = await target.plan(material, AbortSignal.timeout(10_000));
    expect(await readdir(allowed, { recursive: true })).toEqual(before);
    expect(writes.length).toBeGreaterThan(0);
    expect(new Set(writes.map((w) => w.path)).size).toBe(writes.length);
    for (const write of writes) {
      expect(isInside(allowed, write.path)).toBe(true);
      const text = write.content.toString('latin1');
      if (text.includes('PRIVATE KEY') || target.kind === 'pkcs12') expect(write.secret).toBe(true);
    }
    if (target.kind !== 'pkcs12') {
      const leafFiles = writes.filter((w) => parseCertificates(w.content.toString()).some((c) => c.fingerprint256 === material.fingerprint256));
      expect(leafFiles.length).toBeGreaterThan(0);
      // Wherever the leaf is, it comes first: servers take the first certificate of a file as theirs.
      for (const w of leafFiles) expect(parseCertificates(w.content.toString())[0].fingerprint256).toBe(material.fingerprint256);
    }
    expect(writes.some((w) => w.content.toString('latin1').includes('PRIVATE KEY') || target.kind === 'pkcs12')).toBe(true);
  });

  it('is rebuilt the same from its options after a JSON round trip (as recovery does from the journal)', async () => {
    const target = await createDeployTarget(optionsFor(allowed), env);
    const rebuilt = await createDeployTarget(JSON.parse(JSON.stringify(target.options)) as TargetOptions, env);
    expect(rebuilt.id).toBe(target.id);
    expect(rebuilt.expectedNames).toEqual(target.expectedNames);
    const paths = async (t: typeof target) => (await t.plan(material, AbortSignal.timeout(10_000))).map((w) => [w.path, w.secret, w.mode]);
    expect(await paths(rebuilt)).toEqual(await paths(target));
  });

  it('refuses an option it does not know', async () => {
    await expect(createDeployTarget({ ...optionsFor(allowed), shell: 'rm -rf /' } as unknown as TargetOptions, env)).rejects.toBeInstanceOf(TargetOptionsError);
  });

  it('refuses files outside allowedPaths', async () => {
    const outside = optionsFor(join(base, 'outside'));
    // The config and crt-list stay readable (they are inside allowedPaths); only the written files move out.
    const mixed = JSON.parse(JSON.stringify(outside).replaceAll(join(base, 'outside', 'nginx.conf'), join(allowed, 'nginx.conf'))
      .replaceAll(join(base, 'outside', 'apache2.conf'), join(allowed, 'apache2.conf')).replaceAll(join(base, 'outside', 'haproxy.cfg'), join(allowed, 'haproxy.cfg'))
      .replaceAll(join(base, 'outside', 'list.txt'), join(allowed, 'list.txt'))) as TargetOptions;
    await expect(createDeployTarget(mixed, env)).rejects.toBeInstanceOf(PathNotAllowedError);
  });

  it('refuses a reload command that is not in the agent\'s allowlist', async () => {
    await expect(createDeployTarget({ ...optionsFor(allowed), reloadCommand: 'not-allowed' } as TargetOptions, env)).rejects.toThrow(/not in the agent's command allowlist/);
  });
});
