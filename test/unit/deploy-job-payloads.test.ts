// The controller's deploy/validate/rollback job payloads: checked before a job exists (a bad certificate,
// key id, deploy id, fingerprint or target kind names its field), and sent in the contract's shape (target
// options as JSON for the agent's own schemas, fingerprints as lowercase hex).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deployJobPayload, jobMessage, JobPayloadError, rollbackJobPayload, validateJobPayload, type DeployJobPayload,
} from '../../controller/src/agent-jobs/deploy-job-payloads.js';
import { issueLeaf, makePki, type IssuedLeaf, type TestPki } from '../support/deploy-pki.js';

let dir: string;
let pki: TestPki;
let leaf: IssuedLeaf;
const hex = (f: string) => f.replaceAll(':', '').toLowerCase();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'certflow-payloads-'));
  pki = await makePki(join(dir, 'pki'));
  leaf = await issueLeaf(pki, ['shop.example']);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const deploy = (extra: Partial<DeployJobPayload> = {}): DeployJobPayload => ({
  deployId: 'run-1.web-1', keyId: 'k-web', certificatePem: leaf.certificatePem, chainPem: leaf.chainPem,
  targets: [{ kind: 'nginx', options: { configFile: '/etc/nginx/nginx.conf', certificatePath: '/etc/ssl/shop.crt', keyPath: '/etc/ssl/shop.key' } }],
  endpoints: [{ host: '10.0.0.5', port: 443, serverName: 'shop.example' }], trustedRootsPem: pki.rootPem, rollbackOnFailure: true, ...extra,
});

describe('deploy job payloads', () => {
  it('keeps a valid deploy payload and sends its target options as JSON naming the kind', () => {
    const payload = deployJobPayload(deploy());
    const message = jobMessage({ id: 'job-1', kind: 'deploy', payload });
    expect(message.deploy).toMatchObject({
      deployId: 'run-1.web-1', keyId: 'k-web', rollbackOnFailure: true, trustedRootsPem: pki.rootPem,
      endpoints: [{ host: '10.0.0.5', port: 443, serverName: 'shop.example' }],
    });
    expect(JSON.parse(message.deploy!.targets![0].optionsJson!)).toEqual({
      kind: 'nginx', configFile: '/etc/nginx/nginx.conf', certificatePath: '/etc/ssl/shop.crt', keyPath: '/etc/ssl/shop.key',
    });
  });

  it('names the field of a payload the agent could never apply', () => {
    expect(() => deployJobPayload(deploy({ certificatePem: 'garbage' }))).toThrow(JobPayloadError);
    expect(() => deployJobPayload(deploy({ certificatePem: leaf.certificatePem + leaf.chainPem }))).toThrow(/certificatePem: the leaf alone/);
    expect(() => deployJobPayload(deploy({ keyId: '../k' }))).toThrow(/"keyId"/);
    expect(() => deployJobPayload(deploy({ deployId: '../../etc' }))).toThrow(/"deployId"/);
    expect(() => deployJobPayload(deploy({ targets: [] }))).toThrow(/"targets"/);
    expect(() => deployJobPayload(deploy({ targets: [{ kind: 'iis' as 'nginx', options: {} }] }))).toThrow(/"targets.0.kind"/);
    expect(() => deployJobPayload({ ...deploy(), keyPem: 'never' } as DeployJobPayload)).toThrow(/keyPem/);
  });

  it('stores fingerprints as lowercase hex whatever form they came in', () => {
    const payload = validateJobPayload({ endpoints: [{ host: 'a.example', port: 443 }], expectedFingerprintSha256: leaf.fingerprint256 });
    expect(payload.expectedFingerprintSha256).toBe(hex(leaf.fingerprint256));
    expect(jobMessage({ id: 'j', kind: 'validate', payload }).validate).toMatchObject({ endpoints: [{ host: 'a.example', port: 443, serverName: '' }], trustedRootsPem: '' });
    expect(() => validateJobPayload({ endpoints: [{ host: 'a', port: 443 }], expectedFingerprintSha256: 'abc' })).toThrow(/64 hex digits/);
    const rollback = rollbackJobPayload({ deployId: 'run-1.web-1', endpoints: [] });
    expect(jobMessage({ id: 'j', kind: 'rollback', payload: rollback }).rollback).toEqual({ deployId: 'run-1.web-1', endpoints: [], expectedFingerprintSha256: '' });
  });

  it('sends the other kinds as stored', () => {
    expect(jobMessage({ id: 'j', kind: 'makeCsr', payload: { keyId: 'k' } })).toEqual({ jobId: 'j', makeCsr: { keyId: 'k' } });
  });
});
