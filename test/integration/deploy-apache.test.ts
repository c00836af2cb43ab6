// Deploys to a real Apache httpd: SSLCertificateFile, SSLCertificateKeyFile and SSLCertificateChainFile each
// get their part, `apache2 -t` accepts it, a graceful restart loads it, and the served chain verifies to the
// root (the intermediate comes from the chain file); a vhost without a chain file gets the full chain.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeployTarget } from '../../agent/src/deploy/create-target.js';
import type { DeployEnvironment } from '../../agent/src/deploy/deploy-target.js';
import { deploy } from '../../agent/src/deploy/deploy.js';
import { fullChainPem } from '../../agent/src/deploy/pem-bundle.js';
import { issueLeaf, makePki, type IssuedLeaf, type TestPki } from '../support/deploy-pki.js';
import { apacheEnvironment, deployEnvironment, startApache, writeApache } from '../support/deploy-servers.js';
import { freePort } from '../support/free-port.js';
import { servedFingerprint, stopDaemons, type Daemon } from '../support/real-servers.js';

let base: string;
let ssl: string;
let conf: string;
let port: number;
let pki: TestPki;
let env: DeployEnvironment;
const daemons: Daemon[] = [];

async function putInPlace(stem: string, leaf: IssuedLeaf, withChainFile: boolean): Promise<void> {
  await writeFile(join(ssl, `${stem}.crt`), withChainFile ? leaf.certificatePem : fullChainPem(leaf));
  await writeFile(join(ssl, `${stem}.key`), leaf.keyPem, { mode: 0o600 });
  if (withChainFile) await writeFile(join(ssl, `${stem}-chain.crt`), leaf.chainPem);
}

const apacheTarget = (stem: string, names: string[], withChainFile: boolean) => createDeployTarget({
  kind: 'apache', configFile: conf, serverRoot: base, expectedNames: names,
  certificatePath: join(ssl, `${stem}.crt`), keyPath: join(ssl, `${stem}.key`), ...(withChainFile ? { chainPath: join(ssl, `${stem}-chain.crt`) } : {}),
}, env);

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'certflow-deploy-apache-'));
  ssl = join(base, 'ssl');
  await mkdir(ssl);
  pki = await makePki(join(base, 'pki'));
  await putInPlace('shop', await issueLeaf(pki, ['shop.example', 'www.shop.example']), true);
  await putInPlace('blog', await issueLeaf(pki, ['blog.example']), false);
  port = await freePort();
  conf = await writeApache(base, port, [
    { port, serverNames: ['shop.example', 'www.shop.example'], certificatePath: join(ssl, 'shop.crt'), keyPath: join(ssl, 'shop.key'), chainPath: join(ssl, 'shop-chain.crt') },
    { port, serverNames: ['blog.example'], certificatePath: join(ssl, 'blog.crt'), keyPath: join(ssl, 'blog.key') },
  ]);
  env = await deployEnvironment({ allowedPaths: [ssl], serviceConfigFiles: [conf], apacheEnvironment: apacheEnvironment(base) });
  daemons.push(await startApache(base, conf, port));
}, 60_000);

afterAll(async () => {
  await stopDaemons(daemons);
  await rm(base, { recursive: true, force: true });
});

describe('deploying to Apache httpd', () => {
  it('writes certificate, key and chain files, restarts gracefully, and serves the new certificate with a verifying chain', async () => {
    const renewed = await issueLeaf(pki, ['shop.example', 'www.shop.example']);
    const result = await deploy([await apacheTarget('shop', ['shop.example', 'www.shop.example'], true)], renewed, {
      env, stateDir: join(base, 'state'), caRoots: [pki.rootPem], signal: AbortSignal.timeout(30_000), validation: { attempts: 20, intervalMs: 250 },
      endpoints: [{ host: '127.0.0.1', port, serverName: 'shop.example' }, { host: '127.0.0.1', port, serverName: 'www.shop.example' }],
    });
    expect(result).toMatchObject({ status: 'deployed', validations: [{ ok: true }, { ok: true }] });
    expect(await servedFingerprint('127.0.0.1', port, 'www.shop.example')).toBe(renewed.fingerprint256);
    expect(await readFile(join(ssl, 'shop.crt'), 'utf8')).toBe(renewed.certificatePem);
    expect(await readFile(join(ssl, 'shop-chain.crt'), 'utf8')).toBe(pki.intermediatePem);
  });

  it('puts the full chain in the certificate file of a vhost without a chain file', async () => {
    const renewed = await issueLeaf(pki, ['blog.example']);
    const result = await deploy([await apacheTarget('blog', ['blog.example'], false)], renewed, {
      env, stateDir: join(base, 'state'), caRoots: [pki.rootPem], signal: AbortSignal.timeout(30_000), validation: { attempts: 20, intervalMs: 250 },
      endpoints: [{ host: '127.0.0.1', port, serverName: 'blog.example' }],
    });
    expect(result.status).toBe('deployed');
    expect(await readFile(join(ssl, 'blog.crt'), 'utf8')).toBe(fullChainPem(renewed));
  });
});
