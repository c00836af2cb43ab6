// Deploy, validate and rollback as agent jobs, end to end: a real controller and agent process and a real
// nginx. The key is made on the agent (MakeCsr job), the test's CA signs its CSR, the controller sends a
// deploy job naming the key by id, and the controller's own checkEndpoint proves what nginx serves. Also:
// a target outside the agent's allowedPaths is refused with nothing changed; a reload that does nothing
// fails validation and is rolled back; a manual rollback policy leaves the files for a rollback job; a
// deploy id delivered twice is applied once; an agent killed mid-deploy answers the job with its recovery.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkEndpoint } from '../../controller/src/validation/check-endpoint.js';
import { issueLeaf, makePki, signCsr, type IssuedLeaf, type TestPki } from '../support/deploy-pki.js';
import { hashes, startNginx, writeNginx } from '../support/deploy-servers.js';
import { freePort } from '../support/free-port.js';
import { deleteStreamsWithPrefix, testNatsUrl, uniquePrefix } from '../support/nats.js';
import { createTestDatabase } from '../support/postgres.js';
import { createEnrollmentToken, eventually, runTsx, startAgent, startController, type AgentProcess, type ControllerProcess, onlineAgentId } from '../support/processes.js';
import { binary, stopDaemons, type Daemon } from '../support/real-servers.js';

const NAMES = ['shop.example', 'www.shop.example'];
const prefix = uniquePrefix();
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let controller: ControllerProcess;
let agent: AgentProcess;
let agentOptions: Parameters<typeof startAgent>[0];
let agentId: string;
let base: string;
let ssl: string;
let conf: string;
let port: number;
let pki: TestPki;
let original: IssuedLeaf;
let keyId: string;
let csrPem: string;
const daemons: Daemon[] = [];
const slowFlag = () => join(base, 'slow-reload.pid');

const hex = (fingerprint: string) => fingerprint.replaceAll(':', '').toLowerCase();
const files = () => [join(ssl, 'shop.crt'), join(ssl, 'shop.key')];
/** After the first deploy only the certificate file changes: every later certificate is for the same agent key. */
const certificateFile = () => join(ssl, 'shop.crt');
const endpoints = () => [{ host: '127.0.0.1', port, serverName: 'shop.example' }];
const served = (expected: string) => checkEndpoint({
  host: '127.0.0.1', port, serverName: 'shop.example', expectedFingerprintSha256: expected, trustedRootsPem: pki.rootPem, attempts: 20, retryDelayMs: 100,
});
const nginxTarget = (extra: Record<string, unknown> = {}) => ({
  kind: 'nginx', options: { configFile: conf, prefix: base, certificatePath: join(ssl, 'shop.crt'), keyPath: join(ssl, 'shop.key'), expectedNames: NAMES, ...extra },
});

interface JobOutput {
  [field: string]: unknown;
  steps: { step: string }[];
}

interface JobView {
  state: string;
  error: string | null;
  result: Record<string, JobOutput> | null;
}

async function runJob(path: string, body: object, timeoutMs = 60_000): Promise<JobView & { jobId: string; deployId?: string }> {
  const response = await controller.api(`/api/v1/agents/${agentId}/${path}`, { method: 'POST', body: JSON.stringify(body) });
  expect(response.status, await response.clone().text()).toBe(202);
  const { jobId, deployId } = (await response.json()) as { jobId: string; deployId?: string };
  const job = await waitForJob(jobId, timeoutMs);
  return { ...job, jobId, deployId };
}

async function waitForJob(jobId: string, timeoutMs = 60_000): Promise<JobView> {
  return eventually(async () => {
    const job = (await (await controller.api(`/api/v1/agent-jobs/${jobId}`)).json()) as JobView;
    return job.state === 'succeeded' || job.state === 'failed' ? job : null;
  }, timeoutMs, `job ${jobId} to finish`);
}

/** A certificate for the agent's key: the same CSR signed again gives a new certificate (new serial) each time. */
const signed = () => signCsr(pki, csrPem, NAMES);

const deployBody = (certificate: { certificatePem: string; chainPem: string }, extra: Record<string, unknown> = {}) => ({
  keyId, certificatePem: certificate.certificatePem, chainPem: certificate.chainPem, targets: [nginxTarget()], endpoints: endpoints(),
  trustedRootsPem: pki.rootPem, ...extra,
});

beforeAll(async () => {
  db = await createTestDatabase();
  base = await mkdtemp(join(tmpdir(), 'certflow-deploy-jobs-'));
  ssl = join(base, 'ssl');
  await mkdir(ssl);
  await mkdir(join(base, 'outside'));
  pki = await makePki(join(base, 'pki'));
  original = await issueLeaf(pki, NAMES);
  await writeFile(join(ssl, 'shop.crt'), `${original.certificatePem.trim()}\n${original.chainPem}`);
  await writeFile(join(ssl, 'shop.key'), original.keyPem, { mode: 0o600 });
  port = await freePort();
  conf = await writeNginx(base, [{ port, serverNames: NAMES, certificatePath: join(ssl, 'shop.crt'), keyPath: join(ssl, 'shop.key') }]);
  daemons.push(await startNginx(base, conf, port));
  const nginx = binary('nginx');
  controller = await startController({ databaseUrl: db.url, natsPrefix: prefix });
  agentOptions = {
    controller: controller.grpcAddress, enrollment: await createEnrollmentToken(controller), scanPaths: [join(base, 'outside')],
    extraConfig: {
      discovery: { endpoints: { enabled: false }, configs: { enabled: false }, watch: false },
      // nginx.conf stays outside allowedPaths, as /etc/nginx/nginx.conf would: the agent may name it, never write it.
      deploy: {
        allowedPaths: [ssl], serviceConfigFiles: [conf], binaries: { nginx },
        commands: {
          noop: ['true'],
          // First run: records its pid and hangs (the test kills the agent meanwhile); later runs reload for real.
          'slow-reload': ['sh', '-c', `[ -e ${slowFlag()} ] && exec ${nginx} -p ${base} -c ${conf} -s reload; echo $$ > ${slowFlag()}; exec sleep 30`],
        },
      },
    },
  };
  agent = await startAgent(agentOptions);
  agentId = await onlineAgentId(controller, 30_000);
  const csr = await runJob('csr', { dnsNames: NAMES, keyType: 'ecdsa-p256' });
  expect(csr.state).toBe('succeeded');
  ({ keyId, csrPem } = csr.result!.csr as unknown as { keyId: string; csrPem: string });
}, 120_000);

afterAll(async () => {
  await agent?.kill();
  await controller?.stop();
  await stopDaemons(daemons);
  await db?.drop();
  await deleteStreamsWithPrefix(testNatsUrl(), prefix);
  if (base) await rm(base, { recursive: true, force: true });
});

describe('deploy jobs through the controller', () => {
  let first: { deployId: string; fingerprint: string };

  it('deploys a certificate for a key made on the agent: nginx serves it, proven from the controller', async () => {
    const certificate = await signed();
    const job = await runJob('deploy', deployBody(certificate));
    expect(job, JSON.stringify(job)).toMatchObject({ state: 'succeeded', error: null });
    const output = job.result!.deploy;
    expect(output).toMatchObject({
      deployId: job.deployId, status: 'deployed', fingerprintSha256: hex(certificate.fingerprint256), rolledBack: false, repeated: false,
      targets: [{ kind: 'nginx', changedFiles: files(), unchangedFiles: [] }],
      validations: [{ ok: true, servedFingerprintSha256: hex(certificate.fingerprint256), endpoint: endpoints()[0] }],
    });
    expect(output.steps.map((s) => s.step)).toEqual(['check', 'probe', 'backup', 'journal', 'write', 'test', 'reload', 'validate']);
    expect(await served(hex(certificate.fingerprint256))).toMatchObject({ ok: true });
    // The key came from the agent's key store: the deployed key file is that key, and neither the job's
    // payload nor its result holds key material.
    expect(await readFile(join(ssl, 'shop.key'), 'utf8')).toBe(await readFile(join(agent.stateDir, 'keys', `${keyId}.pem`), 'utf8'));
    expect(JSON.stringify(job)).not.toMatch(/PRIVATE KEY/);
    const audit = (await (await controller.api('/api/v1/audit?action=agent.deploy')).json()) as { items: { after: Record<string, unknown> }[] };
    expect(audit.items.at(-1)?.after).toMatchObject({ jobId: job.jobId, deployId: job.deployId, keyId, fingerprintSha256: hex(certificate.fingerprint256) });
    first = { deployId: job.deployId!, fingerprint: hex(certificate.fingerprint256) };
  });

  it('refuses a target outside the agent\'s allowedPaths: the job fails and nothing changes', async () => {
    const before = await hashes(files());
    const job = await runJob('deploy', deployBody(await signed(), { targets: [nginxTarget({ certificatePath: join(base, 'outside/shop.crt') })] }));
    expect(job.state).toBe('failed');
    expect(job.result!.deploy).toMatchObject({ status: 'refused', failedStep: 'check', problem: 'path', steps: [] });
    expect(job.error).toMatch(/outside the agent's allowedPaths/);
    expect(await hashes(files())).toEqual(before);
    expect(await served(first.fingerprint)).toMatchObject({ ok: true });
  });

  it('refuses a key id the agent\'s key store does not hold: keys are never sent, only named', async () => {
    const job = await runJob('deploy', deployBody(await signed(), { keyId: 'no-such-key' }));
    expect(job.result!.deploy).toMatchObject({ status: 'refused', problem: 'key' });
    expect(job.error).toMatch(/key store has no key "no-such-key"/);
  });

  it('refuses a reload command the agent\'s config does not list', async () => {
    const job = await runJob('deploy', deployBody(await signed(), { targets: [nginxTarget({ reloadCommand: 'rm-everything' })] }));
    expect(job.result!.deploy).toMatchObject({ status: 'refused', problem: 'command' });
  });

  it('rolls back on the agent when the reload does nothing and validation fails: the previous certificate is served again', async () => {
    const before = await hashes(files());
    const job = await runJob('deploy', deployBody(await signed(), { targets: [nginxTarget({ reloadCommand: 'noop' })] }));
    expect(job.state).toBe('failed');
    expect(job.result!.deploy).toMatchObject({
      status: 'rolled-back', failedStep: 'validate', rolledBack: true,
      targets: [{ kind: 'nginx', changedFiles: [certificateFile()], unchangedFiles: [join(ssl, 'shop.key')] }],
      validations: [{ ok: false, failure: 'fingerprint', servedFingerprintSha256: first.fingerprint }],
      rollback: { status: 'rolled-back', ok: true, restoredFiles: [certificateFile()], validations: [{ ok: true, servedFingerprintSha256: first.fingerprint }] },
    });
    expect(job.error).toMatch(/rolled back/);
    expect(await hashes(files())).toEqual(before);
    expect(await served(first.fingerprint)).toMatchObject({ ok: true });
  });

  it('leaves a failed validation in place under a manual policy; a rollback job then restores the previous certificate', async () => {
    const certificate = await signed();
    const before = await hashes(files());
    const job = await runJob('deploy', deployBody(certificate, { targets: [nginxTarget({ reloadCommand: 'noop' })], rollbackOnFailure: false }));
    expect(job.state).toBe('failed');
    expect(job.result!.deploy).toMatchObject({ status: 'validation-failed', failedStep: 'validate', rolledBack: false, rollback: null });
    expect(await hashes(files())).not.toEqual(before);
    const rollback = await runJob('rollback', { deployId: job.deployId, endpoints: endpoints(), expectedFingerprintSha256: first.fingerprint });
    expect(rollback, JSON.stringify(rollback)).toMatchObject({ state: 'succeeded', result: { rollback: { status: 'rolled-back', ok: true, restoredFiles: [certificateFile()] } } });
    expect(await hashes(files())).toEqual(before);
    expect(await served(first.fingerprint)).toMatchObject({ ok: true });
  });

  it('rolls back an earlier successful deploy on request, and a second request finds it already rolled back', async () => {
    const job = await runJob('rollback', { deployId: first.deployId, endpoints: endpoints(), expectedFingerprintSha256: hex(original.fingerprint256) });
    expect(job, JSON.stringify(job)).toMatchObject({
      state: 'succeeded', result: { rollback: { status: 'rolled-back', ok: true, validations: [{ ok: true, servedFingerprintSha256: hex(original.fingerprint256) }] } },
    });
    expect(await served(hex(original.fingerprint256))).toMatchObject({ ok: true });
    const again = await runJob('rollback', { deployId: first.deployId, endpoints: endpoints() });
    expect(again).toMatchObject({ state: 'succeeded', result: { rollback: { status: 'already-rolled-back', ok: true } } });
  });

  it('applies a deploy id once: a second job with the same id gets the first answer, and nothing is deployed again', async () => {
    const certificate = await signed();
    const deployId = `twice-${Date.now()}`;
    const once = await runJob('deploy', deployBody(certificate, { deployId }));
    expect(once.result!.deploy).toMatchObject({ status: 'deployed', repeated: false });
    const journal = await readFile(join(agent.stateDir, 'deploy', deployId, 'journal.json'), 'utf8');
    const after = await hashes(files());
    const twice = await runJob('deploy', deployBody(certificate, { deployId }));
    expect(twice.state).toBe('succeeded');
    expect(twice.result!.deploy).toEqual({ ...once.result!.deploy, repeated: true });
    expect(await readFile(join(agent.stateDir, 'deploy', deployId, 'journal.json'), 'utf8')).toBe(journal);
    expect(await hashes(files())).toEqual(after);
    // The first deploy's files were replaced since: rolling it back now would throw this one away.
    const stale = await runJob('rollback', { deployId: first.deployId, endpoints: endpoints() });
    expect(stale).toMatchObject({ state: 'failed', result: { rollback: { status: 'refused', ok: false } } });
    expect(stale.error).toMatch(/changed since deploy/);
    expect(await served(hex(certificate.fingerprint256))).toMatchObject({ ok: true });
  });

  it('deploys with certflowctl agents deploy, which waits for the agent and prints what changed and what is served', async () => {
    const certificate = await signed();
    await writeFile(join(base, 'cli.crt'), certificate.certificatePem);
    await writeFile(join(base, 'cli-chain.crt'), certificate.chainPem);
    await writeFile(join(base, 'cli-roots.crt'), pki.rootPem);
    await writeFile(join(base, 'cli-targets.json'), JSON.stringify([nginxTarget()]));
    const cli = runTsx('controller/src/cli/main.ts', ['agents', 'deploy', agentId, '--key-id', keyId, '--cert', join(base, 'cli.crt'),
      '--chain', join(base, 'cli-chain.crt'), '--roots', join(base, 'cli-roots.crt'), '--targets', join(base, 'cli-targets.json'),
      '--endpoints', `127.0.0.1:${port}/shop.example`, '--url', controller.apiUrl, '--token', controller.adminToken], {});
    expect(await cli.exited, cli.output()).toBe(0);
    expect(cli.output()).toMatch(/^deploy d-\S+ \(job [0-9a-f-]{36}\): deployed in \d+ ms$/m);
    expect(cli.output()).toContain(`changed ${certificateFile()}`);
    expect(cli.output()).toContain(`127.0.0.1:${port} (shop.example): serves ${hex(certificate.fingerprint256)}`);
    expect(await served(hex(certificate.fingerprint256))).toMatchObject({ ok: true });
  });

  it('answers a deploy cut short by killing the agent with what the restarted agent\'s recovery did', async () => {
    const certificate = await signed();
    const response = await controller.api(`/api/v1/agents/${agentId}/deploy`, {
      method: 'POST', body: JSON.stringify(deployBody(certificate, { targets: [nginxTarget({ reloadCommand: 'slow-reload' })] })),
    });
    const { jobId } = (await response.json()) as { jobId: string };
    // The files are swapped and the config tested once the slow reload starts; kill the agent there.
    const pid = Number(await eventually(async () => (await readFile(slowFlag(), 'utf8').catch(() => '')).trim(), 60_000, 'the slow reload to start'));
    await agent.kill();
    process.kill(pid, 'SIGKILL');
    agent = await startAgent({ ...agentOptions, stateDir: agent.stateDir });
    const job = await waitForJob(jobId);
    expect(job.state).toBe('failed');
    expect(job.result!.deploy).toMatchObject({ status: 'recovered', repeated: true, recovery: { action: 'completed', files: [certificateFile()], problems: [] } });
    expect(job.error).toMatch(/completed it/);
    expect(agent.output()).toMatch(/recovered an interrupted deploy/);
    // Recovery does not validate: a validate job does, and the new certificate is served.
    const validate = await runJob('validate', { endpoints: endpoints(), expectedFingerprintSha256: hex(certificate.fingerprint256), trustedRootsPem: pki.rootPem });
    expect(validate, JSON.stringify(validate)).toMatchObject({ state: 'succeeded', result: { validate: { ok: true, validations: [{ ok: true }] } } });
    expect(await served(hex(certificate.fingerprint256))).toMatchObject({ ok: true });
  }, 120_000);

  it('fails a validate job whose endpoint serves another certificate, saying what is served', async () => {
    const job = await runJob('validate', { endpoints: endpoints(), expectedFingerprintSha256: hex(original.fingerprint256), trustedRootsPem: pki.rootPem });
    expect(job.state).toBe('failed');
    expect(job.result!.validate).toMatchObject({ ok: false, validations: [{ ok: false, failure: 'fingerprint' }] });
  });

  it('refuses a deploy body the agent could never apply, before any job exists', async () => {
    const bad = async (body: object) => (await controller.api(`/api/v1/agents/${agentId}/deploy`, { method: 'POST', body: JSON.stringify(body) })).status;
    expect(await bad({ ...deployBody(await signed()), certificatePem: 'not a certificate' })).toBe(400);
    expect(await bad({ ...deployBody(await signed()), targets: [] })).toBe(400);
    expect(await bad({ ...deployBody(await signed()), targets: [{ kind: 'iis', options: {} }] })).toBe(400);
    expect(await bad({ ...deployBody(await signed()), keyId: '../../etc/shadow' })).toBe(400);
  });
});

