// The agent killed (SIGKILL) in the middle of a deploy, at each point where the files are in a different
// state, then started again: recovery finishes the deploy when every new file was fully in place and
// reverts it otherwise. Afterwards every file is all-old or all-new (never a mix, never a temp file), each
// certificate file matches its key file, and nginx serves the certificate that is in its files.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fullChainPem, parseCertificates } from '../../agent/src/deploy/pem-bundle.js';
import type { RecoveredDeploy } from '../../agent/src/deploy/recover-interrupted.js';
import type { CrashSpec } from '../support/deploy-crash-child.js';
import { issueLeaf, makePki, type IssuedLeaf, type TestPki } from '../support/deploy-pki.js';
import { hashes, startNginx, writeNginx } from '../support/deploy-servers.js';
import { freePort } from '../support/free-port.js';
import { runTsx } from '../support/processes.js';
import { servedFingerprint, stopDaemons, type Daemon } from '../support/real-servers.js';

const CHILD = 'test/support/deploy-crash-child.ts';
const NAMES = ['shop.example'];
let base: string;
let ssl: string;
let conf: string;
let port: number;
let pki: TestPki;
let original: IssuedLeaf;
const daemons: Daemon[] = [];
const pairs = () => [[join(ssl, 'nginx.crt'), join(ssl, 'nginx.key')], [join(ssl, 'app-full.crt'), join(ssl, 'app.key')]];
const files = () => pairs().flat();

async function putInPlace(leaf: IssuedLeaf): Promise<void> {
  for (const [crt, key] of pairs()) {
    await writeFile(crt, fullChainPem(leaf));
    await writeFile(key, leaf.keyPem, { mode: 0o600 });
  }
}

async function expectedHashes(leaf: IssuedLeaf): Promise<Record<string, string | null>> {
  const dir = await mkdtemp(join(tmpdir(), 'certflow-expected-'));
  try {
    const mirror = Object.fromEntries(files().map((f) => [f, join(dir, f.split('/').pop()!)]));
    for (const [crt, key] of pairs()) {
      await writeFile(mirror[crt], fullChainPem(leaf));
      await writeFile(mirror[key], leaf.keyPem);
    }
    const h = await hashes(Object.values(mirror));
    return Object.fromEntries(files().map((f) => [f, h[mirror[f]]]));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function specFor(leaf: IssuedLeaf, stateDir: string, reloadDoesNothing: boolean): Promise<string> {
  const spec: CrashSpec = {
    stateDir, allowedPaths: [ssl], serviceConfigFiles: [conf],
    targets: [
      {
        kind: 'nginx', configFile: conf, prefix: base, certificatePath: join(ssl, 'nginx.crt'), keyPath: join(ssl, 'nginx.key'), expectedNames: NAMES,
        ...(reloadDoesNothing ? { reloadCommand: 'noop' } : {}),
      },
      { kind: 'file', fullChainPath: join(ssl, 'app-full.crt'), keyPath: join(ssl, 'app.key'), expectedNames: NAMES },
    ],
    material: { certificatePem: leaf.certificatePem, chainPem: leaf.chainPem, keyPem: leaf.keyPem },
    endpoints: [{ host: '127.0.0.1', port, serverName: 'shop.example' }],
    caRoots: [pki.rootPem],
    commands: { noop: ['true'] },
  };
  const file = join(stateDir, '..', `spec-${Date.now()}.json`);
  await writeFile(file, JSON.stringify(spec));
  return file;
}

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'certflow-deploy-crash-'));
  ssl = join(base, 'ssl');
  await mkdir(ssl);
  pki = await makePki(join(base, 'pki'));
  original = await issueLeaf(pki, NAMES);
  await putInPlace(original);
  port = await freePort();
  conf = await writeNginx(base, [{ port, serverNames: NAMES, certificatePath: join(ssl, 'nginx.crt'), keyPath: join(ssl, 'nginx.key') }]);
  daemons.push(await startNginx(base, conf, port));
}, 60_000);

afterAll(async () => {
  await stopDaemons(daemons);
  await rm(base, { recursive: true, force: true });
});

// Where the agent dies, how many of the 4 files are new and staged at that moment, and what recovery must
// then make of it.
const cases: [point: string, outcome: 'old' | 'new', action: RecoveredDeploy['action'] | 'nothing to recover', newAtKill: number, tempsAtKill: number][] = [
  ['backups-written', 'old', 'nothing to recover', 0, 0],
  ['journal-written', 'old', 'reverted', 0, 0],
  ['staged', 'old', 'reverted', 0, 4],
  ['swapped:0', 'old', 'reverted', 1, 3],
  ['swapped:2', 'old', 'reverted', 3, 1],
  ['swapped', 'new', 'completed', 4, 0],
  ['reloaded', 'new', 'completed', 4, 0],
  // Validation failed (the reload did nothing) and the rollback had begun: every new file is in place, yet it
  // must be undone.
  ['rolling-back', 'old', 'reverted', 4, 0],
];

const temporaryFiles = async () => (await readdir(ssl)).filter((n) => n.includes('.certflow-'));

describe('an agent killed mid-deploy and started again', () => {
  it.each(cases)('killed at "%s": the files end up all-%s (%s)', async (point, outcome, action, newAtKill, tempsAtKill) => {
    await putInPlace(original);
    execFileSync('nginx', ['-p', base, '-c', conf, '-s', 'reload'], { stdio: 'pipe' });
    const stateDir = join(base, `state-${point.replace(':', '-')}`);
    await mkdir(stateDir);
    const renewed = await issueLeaf(pki, NAMES);
    const spec = await specFor(renewed, stateDir, point === 'rolling-back');

    const agent = runTsx(CHILD, ['deploy', spec], { CERTFLOW_TEST_DEPLOY_STOP_AT: point });
    await agent.waitForOutput(new RegExp(`paused at ${point}\\n`));
    await agent.kill();
    const newHashes = Object.values(await expectedHashes(renewed));
    expect(Object.values(await hashes(files())).filter((h) => newHashes.includes(h)).length).toBe(newAtKill);
    expect((await temporaryFiles()).length).toBe(tempsAtKill);

    const restarted = runTsx(CHILD, ['recover', spec], {});
    expect(await restarted.exited).toBe(0);
    const recovered = JSON.parse(/RESULT (.*)/.exec(restarted.output())![1]) as RecoveredDeploy[];
    if (action === 'nothing to recover') expect(recovered).toEqual([]);
    else expect(recovered).toMatchObject([{ action, problems: [] }]);

    const expected = await expectedHashes(outcome === 'new' ? renewed : original);
    expect(await hashes(files())).toEqual(expected);
    expect(await temporaryFiles()).toEqual([]);
    for (const [crt, key] of pairs()) {
      expect(parseCertificates(await readFile(crt, 'utf8'))[0].checkPrivateKey(createPrivateKey(await readFile(key)))).toBe(true);
    }
    // Recovery reloaded nginx: what it serves is what is in its files.
    const inFiles = new X509Certificate(await readFile(join(ssl, 'nginx.crt'))).fingerprint256;
    let served = '';
    for (let i = 0; i < 30 && served !== inFiles; i++) {
      served = await servedFingerprint('127.0.0.1', port, 'shop.example');
      if (served !== inFiles) await new Promise((r) => setTimeout(r, 100));
    }
    expect(served).toBe(inFiles);
  });
});

describe('the real agent process', () => {
  it('recovers an interrupted deploy when it starts, before it talks to any controller', async () => {
    await putInPlace(original);
    execFileSync('nginx', ['-p', base, '-c', conf, '-s', 'reload'], { stdio: 'pipe' });
    const stateDir = join(base, 'state-agent');
    await mkdir(stateDir);
    const renewed = await issueLeaf(pki, NAMES);
    const spec = await specFor(renewed, stateDir, false);
    const dying = runTsx(CHILD, ['deploy', spec], { CERTFLOW_TEST_DEPLOY_STOP_AT: 'swapped:0' });
    await dying.waitForOutput(/paused at swapped:0\n/);
    await dying.kill();

    // The agent's own config allows exactly what the deploy used; it has no identity and no token, so
    // after recovering it stops with its enrolment error: recovery must not wait for the controller.
    const configFile = join(base, 'agent-recovery.json');
    await writeFile(configFile, JSON.stringify({
      controller: '127.0.0.1:1', stateDir,
      scan: { paths: [ssl] },
      deploy: { allowedPaths: [ssl], serviceConfigFiles: [conf], commands: { noop: ['true'] } },
    }));
    const agent = runTsx('agent/src/main.ts', ['run', '--config', configFile], {});
    expect(await agent.exited).toBe(1);
    expect(agent.output()).toMatch(/"action":"reverted".*"msg":"recovered an interrupted deploy"/);
    expect(agent.output()).toMatch(/not enrolled and has no enrolment token/);
    expect(await hashes(files())).toEqual(await expectedHashes(original));
    expect(await temporaryFiles()).toEqual([]);
  });
});
