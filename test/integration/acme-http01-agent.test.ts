// http-01 answered by the target host's agent, through the whole workflow, with real processes: a
// controller (Postgres, NATS JetStream), an agent on this host and a real Pebble that validates every
// order (PEBBLE_AUTHZREUSE=0) by connecting to its http-01 port on 127.0.0.1 (pebble-challtestsrv resolves
// every name to 127.0.0.1). The CA is added with POST /api/v1/cas; a template's CA policy names it.
//   - port mode: the agent listens on the port its acme.http01.ports allows, the run succeeds, and the
//     port is closed again afterwards;
//   - a port the agent does not allow: the run fails saying so, and Pebble was never asked to validate;
//   - webroot mode: the agent writes the token files under nginx's webroot (inside allowedPaths), nginx
//     serves them to Pebble, and they are removed afterwards; a webroot outside allowedPaths is refused;
//   - an agent from before serveHttp01 (the makeCsr job answered with the CSR alone): the tokens of the same
//     order go out in a separate Http01Challenge start job.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, X509Certificate } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, runTsx, type AgentProcess, type ControllerProcess } from '../support/processes.js';
import { startPebble, type RunningPebble } from '../support/pebble.js';
import { closedPort } from '../support/free-port.js';
import { makeTestCsr } from '../support/csr.js';
import { sql } from '../support/reliability.js';
import { startDaemon, stopDaemons, type Daemon } from '../support/real-servers.js';
import { apiJson, createTemplate, FAST_WORKFLOW_ENV, waitForRun, type RunView } from '../support/workflow.js';
import { addPebbleHttp01Ca, http01AgentConfig, http01Jobs, startWorkflowStack, type WorkflowStack } from '../support/workflow-stack.js';

let stack: WorkflowStack;
let db: WorkflowStack['db'];
let pebble: RunningPebble;
let controller: ControllerProcess;
let agentId: string;
let dir: string;
/** The agent running now (the last test restarts it). */
let agentNow: AgentProcess | undefined;
const DOMAIN = 'http01.test';

beforeAll(async () => {
  pebble = await startPebble();
  stack = await startWorkflowStack({ env: FAST_WORKFLOW_ENV, dirPrefix: 'certflow-http01-', agentConfig: http01AgentConfig(pebble) });
  ({ db, controller, agentId, dir } = stack);
  // World-traversable: nginx's workers (nobody) read the webroot under it.
  await chmod(dir, 0o755);
  await addPebbleHttp01Ca(controller, pebble, 'pebble-http', DOMAIN);
}, 90_000);

afterAll(async () => {
  await stack?.stop({ agent: agentNow });
  await pebble?.stop();
});

const fileTarget = (name: string) => ({ agentId, kind: 'file', options: { certificatePath: join(dir, `${name}.pem`), chainPath: join(dir, `${name}.chain.pem`), keyPath: join(dir, `${name}.key`) } });

async function renewThroughPebble(name: string, http01?: Record<string, unknown>, ca = 'pebble-http'): Promise<RunView> {
  await createTemplate(controller, `via-pebble-${name}`, { ca: { policy: [{ ca }], ...(http01 ? { http01 } : {}) } });
  const managed = await apiJson<{ id: string }>(controller, '/api/v1/managed-certificates', { method: 'POST', body: JSON.stringify({
    template: `via-pebble-${name}`, dnsNames: [`${name}.${DOMAIN}`, `www.${name}.${DOMAIN}`], targets: [fileTarget(name)],
  }) }, 201);
  return waitForRun(controller, managed.id, ['succeeded', 'failed', 'rolled-back'], 90_000);
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

describe('http-01 answered by the target host\'s agent', () => {
  it('port mode: the agent serves the tokens on its allowed port, Pebble validates, the run succeeds and the port is closed again', async () => {
    const run = await renewThroughPebble('shop');
    expect(run.error).toBeNull();
    expect(run.state).toBe('succeeded');
    const issue = run.stages.find((s) => s.stage === 'issue')!;
    expect(issue.state).toBe('succeeded');
    expect(issue.output).toMatchObject({ ca: 'pebble-http' });

    const cert = new X509Certificate(await readFile(join(dir, 'shop.pem'), 'utf8'));
    expect(cert.issuer).toMatch(/Pebble/);
    expect(cert.subjectAltName).toContain(`DNS:shop.${DOMAIN}`);
    expect(cert.subjectAltName).toContain(`DNS:www.shop.${DOMAIN}`);
    // One start job carrying both names' tokens, then a stop once the certificate was recorded: nothing
    // listens on the port any more.
    const jobs = await eventually(async () => {
      const rows = await http01Jobs(db.url, run.id);
      return rows.length === 2 && rows[1]!.state === 'succeeded' ? rows : null;
    }, 20_000, 'the stop job to be answered');
    expect(jobs[0]).toMatchObject({ state: 'succeeded', payload: { action: 'start', port: pebble.httpChallengePort }, result: { http01: { status: 'serving', mode: 'port' } } });
    expect(jobs[0]!.payload.tokens).toHaveLength(2);
    expect(jobs[1]).toMatchObject({ payload: { action: 'stop' }, result: { http01: { status: 'stopped' } } });
    expect(await listening(pebble.httpChallengePort)).toBe(false);
  }, 120_000);

  it('a port the agent does not allow: the run fails saying which port and why, nothing served', async () => {
    const port = await closedPort();
    const run = await renewThroughPebble('blocked', { port });
    expect(run.state).toBe('failed');
    expect(run.error).toMatch(new RegExp(`port ${port} is not allowed for http-01 on this agent \\(acme.http01.ports: ${pebble.httpChallengePort}\\)`));
    expect(await listening(port)).toBe(false);
  }, 120_000);

  it('the CA cannot reach the agent (bound to another address): the run fails with Pebble\'s own words and the agent is told to stop', async () => {
    const run = await renewThroughPebble('unreachable', { bindAddress: '127.0.0.2' });
    expect(run.state).toBe('failed');
    expect(run.error).toMatch(new RegExp(`^pebble-http refused: CA "pebble-http" could not validate (www\\.)?unreachable\\.http01\\.test with http-01: .*127\\.0\\.0\\.1:${pebble.httpChallengePort}: connect: connection refused`));
    const jobs = await eventually(async () => {
      const rows = await http01Jobs(db.url, run.id);
      return rows.length === 2 && rows[1]!.state === 'succeeded' ? rows : null;
    }, 20_000, 'the stop job to be answered');
    expect(jobs[1]!.result).toMatchObject({ http01: { status: 'stopped' } });
  }, 120_000);

  describe('webroot mode', () => {
    let nginx: Daemon;
    const webroot = () => join(dir, 'www');

    beforeAll(async () => {
      // The port mode test's server must be gone before nginx takes the port.
      await eventually(async () => !(await listening(pebble.httpChallengePort)), 20_000, 'the port to be free');
      await mkdir(join(dir, 'nginx', 'temp'), { recursive: true });
      await mkdir(webroot(), { recursive: true, mode: 0o755 });
      const conf = join(dir, 'nginx', 'nginx.conf');
      await writeFile(conf, `worker_processes 1;
pid ${dir}/nginx/nginx.pid;
error_log ${dir}/nginx/error.log;
events { worker_connections 64; }
http {
  access_log ${dir}/nginx/access.log;
  client_body_temp_path ${dir}/nginx/temp/body;
  proxy_temp_path ${dir}/nginx/temp/proxy;
  fastcgi_temp_path ${dir}/nginx/temp/fastcgi;
  uwsgi_temp_path ${dir}/nginx/temp/uwsgi;
  scgi_temp_path ${dir}/nginx/temp/scgi;
  server {
    listen 127.0.0.1:${pebble.httpChallengePort};
    root ${webroot()};
  }
}
`);
      // This CA's own config names the webroot, added the way an operator would, with certflowctl.
      const trustFile = join(dir, 'pebble-tls.pem');
      await writeFile(trustFile, pebble.tlsTrustPem);
      const ctl = runTsx('controller/src/cli/main.ts', ['cas', 'add-acme', 'pebble-webroot', '--directory', pebble.directoryUrl, '--trust-file', trustFile,
        '--http-port', String(pebble.httpChallengePort), '--http-webroot', webroot(), '--allowed-domain', DOMAIN, '--max-validity-days', '3650',
        '--key-type', 'ecdsa-p256', '--json', '--url', controller.apiUrl, '--token', controller.adminToken], {});
      expect(await ctl.exited, ctl.output()).toBe(0);
      expect(JSON.parse(ctl.output())).toMatchObject({ config: { challenge: { type: 'http-01', port: pebble.httpChallengePort, webroot: webroot() } } });
      nginx = await startDaemon('nginx', ['-p', join(dir, 'nginx'), '-e', join(dir, 'nginx', 'error.log'), '-c', conf, '-g', 'daemon off;'], { port: pebble.httpChallengePort, cwd: dir });
    }, 60_000);

    afterAll(async () => {
      if (nginx) await stopDaemons([nginx]);
    });

    it('writes the token files under the webroot, nginx serves them to Pebble, and they are removed afterwards', async () => {
      const run = await renewThroughPebble('blog', undefined, 'pebble-webroot');
      expect(run.error).toBeNull();
      expect(run.state).toBe('succeeded');
      const cert = new X509Certificate(await readFile(join(dir, 'blog.pem'), 'utf8'));
      expect(cert.issuer).toMatch(/Pebble/);

      // Pebble fetched one token per name from nginx, which read them from the files the agent wrote.
      const access = await readFile(join(dir, 'nginx', 'access.log'), 'utf8');
      // (Pebble fetches each token more than once, as from several vantage points.)
      const fetched = [...new Set([...access.matchAll(/"GET \/\.well-known\/acme-challenge\/([A-Za-z0-9_-]+) HTTP\/1\.1" 200 /g)].map((m) => m[1]))];
      expect(fetched).toHaveLength(2);
      // ... and the agent removed them once told to stop (the stop job lists the files).
      const jobs = await eventually(async () => {
        const rows = await http01Jobs(db.url, run.id);
        return rows.length === 2 && rows[1]!.state === 'succeeded' ? rows : null;
      }, 20_000, 'the stop job to be answered');
      expect(jobs[0]!.result?.http01?.mode).toBe('webroot');
      expect(jobs[1]!.result?.http01?.files.map((f) => f.split('/').pop()).sort()).toEqual([...fetched].sort());
      const challengeDir = join(webroot(), '.well-known', 'acme-challenge');
      await eventually(async () => (await readdir(challengeDir)).length === 0, 20_000, 'the token files to be removed');
      // The agent did not listen itself in webroot mode (nginx holds the port).
      expect(stack.agent.output()).not.toMatch(/already in use/);
    }, 120_000);

    it('a webroot outside the agent\'s allowedPaths is refused and nothing is written there', async () => {
      const outside = await mkdtemp(join(tmpdir(), 'certflow-outside-'));
      try {
        const run = await renewThroughPebble('outside', { webroot: outside });
        expect(run.state).toBe('failed');
        expect(run.error).toMatch(/webroot .* is outside the agent's deploy\.allowedPaths/);
        expect(await readdir(outside)).toEqual([]);
      } finally {
        await rm(outside, { recursive: true, force: true });
      }
    }, 120_000);
  });

  it('an agent from before serveHttp01 (the makeCsr job answered with the CSR alone): a separate start job serves the same order, and the issue succeeds', async () => {
    await eventually(async () => !(await listening(pebble.httpChallengePort)), 20_000, 'the port to be free');
    // Offline while the run starts, so this test answers the makeCsr job the way such an agent would.
    await stack.agent.stop();
    const names = [`old.${DOMAIN}`, `www.old.${DOMAIN}`];
    await createTemplate(controller, 'via-pebble-old-agent', { ca: { policy: [{ ca: 'pebble-http' }] } });
    const managed = await apiJson<{ id: string }>(controller, '/api/v1/managed-certificates', { method: 'POST', body: JSON.stringify({
      template: 'via-pebble-old-agent', dnsNames: names, targets: [fileTarget('old')],
    }) }, 201);
    const [job] = await eventually(async () => {
      const rows = await sql<{ id: string; run_id: string; key_id: string }>(db.url,
        `select id, run_id, payload->>'keyId' as key_id from agent_jobs where kind = 'makeCsr' and payload->'serveHttp01' is not null and payload->>'commonName' = $1`, [names[0]]);
      return rows.length ? rows : null;
    }, 30_000, 'the makeCsr job that carries the tokens');
    // The answer as the gateway records it from such an agent: the CSR, no http01 (a key made here stands in for the host's).
    const csr = await makeTestCsr({ dnsNames: names, commonName: names[0] });
    const output = { csr: { keyId: job!.key_id, csrPem: csr.csrPem, publicKeySha256: createHash('sha256').update(csr.spki).digest('hex') } };
    await sql(db.url, `update agent_jobs set state = 'succeeded', finished_at = now(), result = $2 where id = $1`, [job!.id, JSON.stringify(output)]);
    await sql(db.url, `update workflow_stages set recheck_at = now() where run_id = $1 and stage = 'issue'`, [job!.run_id]);
    agentNow = await stack.agent.restart();

    const issued = await eventually(async () => {
      const rows = await sql<{ state: string }>(db.url, `select state from workflow_stages where run_id = $1 and stage = 'issue'`, [job!.run_id]);
      return rows[0]?.state === 'succeeded' ? rows[0] : null;
    }, 60_000, 'the issue stage to succeed');
    expect(issued.state).toBe('succeeded');
    // The tokens went out in an Http01Challenge start job of their own, for the order placed before the key.
    const http01 = await eventually(async () => {
      const rows = await http01Jobs(db.url, job!.run_id);
      return rows.length === 3 && rows[2]!.state === 'succeeded' ? rows : null;
    }, 20_000, 'the start and stop jobs');
    expect(http01.map((j) => [j.kind, j.payload.action])).toEqual([['makeCsr', 'start'], ['http01Challenge', 'start'], ['http01Challenge', 'stop']]);
    const [recorded] = await sql<{ n: number }>(db.url,
      `select count(*)::int as n from issued_certificates where idempotency_key like $1 and certificate_pem is not null`, [`${job!.run_id}:%`]);
    expect(recorded!.n).toBe(1);
    // (Deploying it fails: the key is not in that agent's store. The issue path is what this test is about.)
    await waitForRun(controller, managed.id, ['succeeded', 'failed', 'rolled-back', 'rollback-failed'], 60_000);
  }, 180_000);
});

