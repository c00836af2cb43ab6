// The agent's handling of deploy and rollback jobs, without a controller: what its own config forbids is
// refused with a structured answer (deployment off, bad target options, a kind that contradicts itself), a
// deploy id is applied once, and a rollback names deploys this agent made.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAgentConfig, type AgentConfig } from '../../agent/src/config.js';
import { storeKey } from '../../agent/src/keys/key-store.js';
import { DeployJobs } from '../../agent/src/session/deploy-jobs.js';
import type { DeployJob__Output } from '../../proto/generated/certflow/agent/v1/DeployJob.js';
import { issueLeaf, makePki, type IssuedLeaf } from '../support/deploy-pki.js';

let dir: string;
let out: string;
let leaf: IssuedLeaf;
const log = pino({ level: 'silent' });

async function agentConfig(deploy: Record<string, unknown>): Promise<AgentConfig> {
  const file = join(dir, `agent-${Math.random().toString(36).slice(2)}.json`);
  await writeFile(file, JSON.stringify({ controller: '127.0.0.1:1', stateDir: join(dir, 'state'), deploy }));
  return loadAgentConfig(file, {});
}

const job = (extra: Partial<DeployJob__Output> = {}): DeployJob__Output => ({
  deployId: 'job-1', keyId: 'web', certificatePem: leaf.certificatePem, chainPem: leaf.chainPem,
  targets: [{ kind: 'file', optionsJson: JSON.stringify({ fullChainPath: join(out, 'full.pem'), keyPath: join(out, 'key.pem') }) }],
  endpoints: [], trustedRootsPem: '', rollbackOnFailure: true, pkcs12Password: '', encryptedKey: null, ...extra,
});

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'certflow-agent-jobs-'));
  out = join(dir, 'out');
  await mkdir(out);
  const pki = await makePki(join(dir, 'pki'));
  leaf = await issueLeaf(pki, ['files.example']);
  await storeKey(join(dir, 'state'), 'web', leaf.keyPem);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('deploy jobs on the agent', () => {
  it('refuses every deploy when the agent\'s config allows no paths', async () => {
    const jobs = new DeployJobs(await agentConfig({}), log);
    const answer = await jobs.deploy(job());
    expect(answer).toMatchObject({ ok: false, deploy: { status: 'refused', problem: 'off' } });
    expect(answer.error).toMatch(/deployment is off/);
  });

  it('refuses target options that are not a JSON object, or that contradict the target\'s kind', async () => {
    const jobs = new DeployJobs(await agentConfig({ allowedPaths: [out] }), log);
    expect((await jobs.deploy(job({ deployId: 'bad-json', targets: [{ kind: 'file', optionsJson: '{nope' }] }))).deploy)
      .toMatchObject({ status: 'refused', problem: 'options', reason: expect.stringMatching(/not JSON/) });
    expect((await jobs.deploy(job({ deployId: 'bad-kind', targets: [{ kind: 'file', optionsJson: '{"kind":"nginx"}' }] }))).deploy)
      .toMatchObject({ status: 'refused', problem: 'options', reason: expect.stringMatching(/kind "nginx"/) });
    expect((await jobs.deploy(job({ deployId: 'bad-option', targets: [{ kind: 'file', optionsJson: '{"fullChainPath":"relative.pem"}' }] }))).deploy)
      .toMatchObject({ status: 'refused', problem: 'options' });
  });

  it('deploys file targets with the key from the store, and answers a second delivery with the stored result', async () => {
    const jobs = new DeployJobs(await agentConfig({ allowedPaths: [out] }), log);
    const first = await jobs.deploy(job());
    expect(first).toMatchObject({ ok: true, deploy: { status: 'deployed', repeated: false, targets: [{ kind: 'file', changedFiles: [join(out, 'full.pem'), join(out, 'key.pem')] }] } });
    expect(await readFile(join(out, 'key.pem'), 'utf8')).toBe(leaf.keyPem);
    expect(JSON.stringify(first)).not.toMatch(/PRIVATE KEY/);
    // Same id, even with other content: nothing is applied again.
    await writeFile(join(out, 'full.pem'), 'changed by hand');
    const again = await new DeployJobs(await agentConfig({ allowedPaths: [out] }), log).deploy(job({ chainPem: '' }));
    expect(again).toEqual({ ...first, deploy: { ...first.deploy, repeated: true } });
    expect(await readFile(join(out, 'full.pem'), 'utf8')).toBe('changed by hand');
  });

  it('runs one delivery of a deploy id once even when the same job arrives while it runs', async () => {
    const jobs = new DeployJobs(await agentConfig({ allowedPaths: [out] }), log);
    const [a, b] = await Promise.all([jobs.deploy(job({ deployId: 'concurrent' })), jobs.deploy(job({ deployId: 'concurrent' }))]);
    expect(a).toBe(b);
    expect(a.deploy).toMatchObject({ status: 'deployed', repeated: false });
  });

  it('refuses to roll back a deploy this agent never made, one overwritten by a later deploy, or one whose files changed since', async () => {
    const jobs = new DeployJobs(await agentConfig({ allowedPaths: [out] }), log);
    expect(await jobs.rollback({ deployId: 'never-made', endpoints: [], expectedFingerprintSha256: '' }))
      .toMatchObject({ ok: false, rollback: { status: 'refused', reason: expect.stringMatching(/no deploy "never-made"/) } });
    // "concurrent" wrote job-1's files again (the same bytes): undoing job-1 would undo it too.
    expect(await jobs.rollback({ deployId: 'job-1', endpoints: [], expectedFingerprintSha256: '' }))
      .toMatchObject({ ok: false, rollback: { status: 'refused', reason: expect.stringMatching(/later deploys replaced the same files .*concurrent/) } });
    await writeFile(join(out, 'full.pem'), 'changed by hand again');
    expect(await jobs.rollback({ deployId: 'concurrent', endpoints: [], expectedFingerprintSha256: '' }))
      .toMatchObject({ ok: false, rollback: { status: 'refused', reason: expect.stringMatching(/changed since deploy "concurrent".*full\.pem/) } });
    expect(await readFile(join(out, 'full.pem'), 'utf8')).toBe('changed by hand again');
  });

  it('rolls back the latest deploy on request: files as before it, then already rolled back', async () => {
    const jobs = new DeployJobs(await agentConfig({ allowedPaths: [out] }), log);
    await writeFile(join(out, 'full.pem'), 'before');
    const deployed = await jobs.deploy(job({ deployId: 'latest' }));
    expect(deployed.deploy).toMatchObject({ status: 'deployed', targets: [{ changedFiles: [join(out, 'full.pem')] }] });
    expect(await jobs.rollback({ deployId: 'latest', endpoints: [{ host: '127.0.0.1', port: 1, serverName: '' }], expectedFingerprintSha256: '' }))
      .toMatchObject({ ok: true, rollback: { status: 'rolled-back', restoredFiles: [join(out, 'full.pem')], notCheckedEndpoints: [{ host: '127.0.0.1', port: 1 }] } });
    expect(await readFile(join(out, 'full.pem'), 'utf8')).toBe('before');
    expect(await jobs.rollback({ deployId: 'latest', endpoints: [], expectedFingerprintSha256: '' })).toMatchObject({ ok: true, rollback: { status: 'already-rolled-back' } });
  });
});
