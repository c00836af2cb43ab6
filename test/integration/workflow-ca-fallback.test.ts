// CA selection and fallback through the whole workflow, with real processes: a controller, an agent and a
// real Pebble (dns-01 answered by the exec hook setting TXT records on pebble-challtestsrv). The template's
// CA policy is [pebble, builtin]: while Pebble runs, runs are issued by Pebble; with Pebble stopped the next
// run falls back to the built-in CA, and the run (select-ca's output) and the audit trail (`ca.fallback`)
// name the skipped CA and why. A CA that answers but refuses the request is not a reason to fall back:
// the run fails with that CA's own text.
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPebble, type RunningPebble } from '../support/pebble.js';
import { eventually, type ControllerProcess } from '../support/processes.js';
import { startWorkflowStack, type WorkflowStack } from '../support/workflow-stack.js';
import { apiJson, createTemplate, FAST_WORKFLOW_ENV, waitForRun, type RunView } from '../support/workflow.js';

const HOOK = fileURLToPath(new URL('../support/challtestsrv-dns-hook.mjs', import.meta.url));
/** Pebble's own policy refuses names under this (its domainBlocklist): certflow's CA policy allows them. */
const BLOCKED = 'blocked.acme.test';
const FINISHED = ['succeeded', 'failed', 'rolled-back', 'cancelled'];

let stack: WorkflowStack;
let pebble: RunningPebble;
let controller: ControllerProcess;
let agentId: string;
let dir: string;

beforeAll(async () => {
  [stack, pebble] = await Promise.all([
    startWorkflowStack({ env: FAST_WORKFLOW_ENV, dirPrefix: 'certflow-ca-fallback-' }), startPebble({ domainBlocklist: [BLOCKED] }),
  ]);
  ({ controller, agentId, dir } = stack);

  await apiJson(controller, '/api/v1/cas?check=true', {
    method: 'POST',
    body: JSON.stringify({
      name: 'pebble', kind: 'acme',
      config: {
        directoryUrl: pebble.directoryUrl, trustPem: pebble.tlsTrustPem,
        challenge: { type: 'dns-01', provider: { kind: 'exec', command: [process.execPath, HOOK, pebble.challtestsrvUrl] } },
      },
      policy: { allowedDomains: ['acme.test'], maxValidityDays: 90, keyTypes: ['ecdsa-p256'] },
    }),
  }, 201);
  await createTemplate(controller, 'pebble-first', { ca: { policy: [{ ca: 'pebble' }, { ca: 'builtin' }] } });
}, 90_000);

afterAll(async () => {
  await stack?.stop();
  await pebble?.stop();
});

async function declare(name: string): Promise<{ id: string }> {
  return apiJson(controller, '/api/v1/managed-certificates', {
    method: 'POST',
    body: JSON.stringify({
      template: 'pebble-first', dnsNames: [name],
      targets: [{ agentId, kind: 'file', options: { certificatePath: join(dir, `${name}.pem`), keyPath: join(dir, `${name}.key`) } }],
    }),
  }, 201);
}

const stage = (run: RunView, name: string) => run.stages.find((s) => s.stage === name)!;

/** The deployed certificate's issuer DN and its fingerprint as certflow records them. */
async function deployed(name: string): Promise<{ issuer: string; fingerprint: string }> {
  const cert = new X509Certificate(await readFile(join(dir, `${name}.pem`), 'utf8'));
  return { issuer: cert.issuer, fingerprint: cert.fingerprint256.replaceAll(':', '').toLowerCase() };
}

describe('CA fallback in the workflow', () => {
  let managedId: string;
  const name = 'shop.acme.test';

  it('issues from Pebble (the first CA of the policy) while it is up, with dns-01 through the exec hook', async () => {
    managedId = (await declare(name)).id;
    const run = await waitForRun(controller, managedId, FINISHED, 90_000);
    expect(run.error).toBeNull();
    expect(run.state).toBe('succeeded');
    expect(stage(run, 'select-ca').output).toEqual({ ca: 'pebble', kind: 'acme', skipped: [] });
    expect(stage(run, 'issue').output).toMatchObject({ ca: 'pebble' });
    // Pebble's issuing intermediate, not the built-in CA's.
    const { issuer, fingerprint } = await deployed(name);
    expect(issuer).toMatch(/Pebble Intermediate CA/);
    const managed = await apiJson<{ currentFingerprintSha256: string }>(controller, `/api/v1/managed-certificates/${managedId}`);
    expect(managed.currentFingerprintSha256).toBe(fingerprint);
    const fallbacks = await apiJson<{ items: unknown[] }>(controller, `/api/v1/audit?action=ca.fallback&targetId=${run.id}`);
    expect(fallbacks.items).toEqual([]);
  }, 120_000);

  it('falls back to the built-in CA when Pebble is stopped; the run and the audit trail name the skipped CA and why', async () => {
    const before = await latestRunId(managedId);
    await pebble.stopPebble();
    const renew = await controller.api(`/api/v1/managed-certificates/${managedId}/renew`, { method: 'POST' });
    expect(renew.status, await renew.text()).toBeLessThan(300);
    const run = await eventually(async () => {
      const latest = await waitForRun(controller, managedId, FINISHED, 90_000);
      return latest.id !== before ? latest : null;
    }, 90_000, 'the renewal run to finish');
    expect(run.error).toBeNull();
    expect(run.state).toBe('succeeded');

    const selected = stage(run, 'select-ca').output as { ca: string; kind: string; skipped: { ca: string; reason: string }[] };
    expect(selected).toMatchObject({ ca: 'builtin', kind: 'internal' });
    expect(selected.skipped).toEqual([{ ca: 'pebble', reason: expect.stringMatching(/^CA "pebble" \(ACME directory\): cannot reach the CA: .*ECONNREFUSED/) }]);
    expect(stage(run, 'issue').output).toMatchObject({ ca: 'builtin' });
    expect((await deployed(name)).issuer).not.toMatch(/Pebble/);

    const audit = await apiJson<{ items: { action: string; targetId: string | null; after: unknown; details?: unknown }[] }>(
      controller, `/api/v1/audit?action=ca.fallback&targetId=${run.id}`);
    expect(audit.items).toHaveLength(1);
    expect(JSON.stringify(audit.items[0])).toContain('"chosen":"builtin"');
    expect(JSON.stringify(audit.items[0])).toMatch(/"skipped":\[\{"ca":"pebble","reason":"CA \\"pebble\\" \(ACME directory\): cannot reach the CA: [^"]*ECONNREFUSED/);
  }, 120_000);
});

describe('a CA that refuses the request', () => {
  let restarted: RunningPebble;
  beforeAll(async () => {
    // The CA row points at the first Pebble's URL: a second Pebble on new ports gets its own CA row.
    restarted = await startPebble({ domainBlocklist: [BLOCKED] });
    await apiJson(controller, '/api/v1/cas?check=true', {
      method: 'POST',
      body: JSON.stringify({
        name: 'pebble-strict', kind: 'acme',
        config: {
          directoryUrl: restarted.directoryUrl, trustPem: restarted.tlsTrustPem,
          challenge: { type: 'dns-01', provider: { kind: 'exec', command: [process.execPath, HOOK, restarted.challtestsrvUrl] } },
        },
        policy: { allowedDomains: ['acme.test'], maxValidityDays: 90, keyTypes: ['ecdsa-p256'] },
      }),
    }, 201);
    await createTemplate(controller, 'strict', { ca: { policy: [{ ca: 'pebble-strict' }, { ca: 'builtin' }] } });
  }, 60_000);
  afterAll(async () => {
    await restarted?.stop();
  });

  async function failedRun(template: string, dnsName: string): Promise<RunView> {
    const managed = await apiJson<{ id: string }>(controller, '/api/v1/managed-certificates', {
      method: 'POST',
      body: JSON.stringify({ template, dnsNames: [dnsName], targets: [{ agentId, kind: 'file', options: { certificatePath: join(dir, `${dnsName}.pem`) } }] }),
    }, 201);
    return waitForRun(controller, managed.id, FINISHED, 90_000);
  }

  it('fails the run with Pebble\'s own words when Pebble refuses the name (no fallback to the next CA)', async () => {
    const run = await failedRun('strict', `www.${BLOCKED}`);
    expect(run.state).toBe('failed');
    expect(stage(run, 'select-ca').output).toMatchObject({ ca: 'pebble-strict', skipped: [] });
    expect(stage(run, 'issue').state).toBe('failed');
    // Pebble's problem document: its detail and type, behind the CA's name and the ACME step.
    expect(run.error).toMatch(/CA "pebble-strict" \(ACME order\): .*www\.blocked\.acme\.test.* \[rejectedIdentifier\]/);
  }, 120_000);

  it('fails the run with the CA policy\'s text when the name is outside the CA\'s allowed domains', async () => {
    const run = await failedRun('strict', 'shop.elsewhere.test');
    expect(run.state).toBe('failed');
    expect(stage(run, 'issue').state).toBe('failed');
    expect(run.error).toMatch(/pebble-strict refused: .*shop\.elsewhere\.test/);
  }, 120_000);
});

async function latestRunId(managedId: string): Promise<string> {
  const page = await apiJson<{ items: { id: string }[] }>(controller, `/api/v1/runs?managedCertificate=${managedId}&limit=1`);
  return page.items[0]!.id;
}
