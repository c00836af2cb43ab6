// Discovery end to end: a real nginx serving certificates from a temp directory, a real agent reading
// its config, scanning the files and probing the endpoints, a real controller deriving findings.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase } from '../support/postgres.js';
import { deleteStreamsWithPrefix, testNatsUrl, uniquePrefix } from '../support/nats.js';
import { freePort } from '../support/free-port.js';
import { createEnrollmentToken, eventually, startAgent, startController, type AgentProcess, type ControllerProcess } from '../support/processes.js';
import { startDaemon, stopDaemons, type Daemon } from '../support/real-servers.js';
import type { Finding } from '../../controller/src/api/schemas.js';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let controller: ControllerProcess;
let agent: AgentProcess;
let nginx: Daemon;
let dir: string;
let port: number;
const prefix = uniquePrefix();

const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

/** A self-signed or CA-signed certificate with its key, via openssl, named `stem`.crt/.key in the temp dir. */
function certificate(stem: string, cn: string, options: { days?: number; rsaBits?: number; issuer?: string; startDaysAgo?: number } = {}) {
  const key = options.rsaBits ? ['-newkey', `rsa:${options.rsaBits}`] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  const validity = ['-days', String(options.days ?? 30)];
  if (!options.issuer) {
    // OpenSSL marks `req -x509` certificates as CAs unless told otherwise; these are server certificates.
    openssl('req', '-x509', ...key, '-nodes', ...validity, '-subj', `/CN=${cn}`, '-addext', `subjectAltName=DNS:${cn}`,
      '-addext', 'basicConstraints=critical,CA:FALSE', '-keyout', `${stem}.key`, '-out', `${stem}.crt`);
    return;
  }
  openssl('req', ...key, '-nodes', '-subj', `/CN=${cn}`, '-keyout', `${stem}.key`, '-out', `${stem}.csr`);
  writeFileSync(join(dir, `${stem}.ext`), `subjectAltName=DNS:${cn}\nbasicConstraints=CA:FALSE\n`);
  openssl('x509', '-req', '-in', `${stem}.csr`, '-CA', `${options.issuer}.crt`, '-CAkey', `${options.issuer}.key`, '-CAcreateserial',
    ...validity, '-extfile', `${stem}.ext`, '-out', `${stem}.crt`);
}

async function findings(kind: string): Promise<Finding[]> {
  const response = await controller.api(`/api/v1/findings?kind=${kind}&limit=500`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { items: Finding[] }).items;
}

const onOurPort = (f: Finding) => f.places.some((p) => p.endpoint?.port === port);
const inOurDir = (f: Finding) => f.places.some((p) => p.path?.startsWith(dir));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'certflow-disc-'));
  port = await freePort();
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '3650', '-subj', '/CN=Findings Test Root',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-keyout', 'root.key', '-out', 'root.crt');
  certificate('a', 'a.test', { issuer: 'root' });            // served without its root: the chain is complete only via a known root
  // b.crt strictly newer than a.crt: the no-SNI endpoint serves a.test's, and b.crt must not count as its drift.
  await new Promise((r) => setTimeout(r, 1100));
  certificate('b', 'b.test');                                  // self-signed, served for b.test and c.test
  certificate('expired', 'old.test', { days: 1 });
  certificate('weak', 'weak.test', { rsaBits: 1024 });
  certificate('unused', 'spare.test', { days: 300 });
  openssl('pkcs12', '-export', '-in', 'unused.crt', '-inkey', 'unused.key', '-passout', 'pass:not-in-the-list', '-out', 'locked.p12');
  // Re-signed with zero days of validity: notAfter is now, so it is expired by the time the agent looks.
  openssl('x509', '-in', 'expired.crt', '-signkey', 'expired.key', '-days', '0', '-out', 'expired.crt');
  await writeFile(join(dir, 'nginx.conf'), `
worker_processes 1;
error_log ${dir}/error.log;
pid ${dir}/nginx.pid;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp; proxy_temp_path ${dir}/tmp; fastcgi_temp_path ${dir}/tmp; uwsgi_temp_path ${dir}/tmp; scgi_temp_path ${dir}/tmp;
  server { listen 127.0.0.1:${port} ssl default_server; server_name a.test; ssl_certificate ${dir}/a.crt; ssl_certificate_key ${dir}/a.key; }
  server { listen 127.0.0.1:${port} ssl; server_name b.test c.test; ssl_certificate ${dir}/b.crt; ssl_certificate_key ${dir}/b.key; }
}
`);
  nginx = await startDaemon('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log'), '-g', 'daemon off;'], { port, cwd: dir });

  db = await createTestDatabase();
  controller = await startController({ databaseUrl: db.url, natsPrefix: prefix });
  agent = await startAgent({
    controller: controller.grpcAddress,
    enrollment: await createEnrollmentToken(controller),
    scanPaths: [dir],
    extraConfig: {
      discovery: {
        configs: { nginx: [join(dir, 'nginx.conf')], apache: [], haproxy: [] },
        endpoints: { timeoutMs: 2000 },
        networkScan: { allowedRanges: ['127.0.0.0/8'] },
        watch: false,
      },
    },
  });
  await agent.waitForOutput(/"msg":"inventory sent"/, 60_000);
  await eventually(async () => (await findings('self-signed-served')).some(onOurPort), 30_000, 'the endpoint findings');
}, 180_000);

afterAll(async () => {
  await agent?.stop();
  await controller?.stop();
  if (nginx) await stopDaemons([nginx]);
  await db?.drop();
  await deleteStreamsWithPrefix(testNatsUrl(), prefix);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('findings from a real nginx and its files', () => {
  it('links the configured certificate files to nginx, its names and its port', async () => {
    const response = await controller.api('/api/v1/endpoints?limit=500');
    const endpoints = ((await response.json()) as { items: { port: number; serverName: string | null; leafSubject: string | null }[] }).items
      .filter((e) => e.port === port);
    expect(endpoints.map((e) => [e.serverName, e.leafSubject]).sort()).toEqual([
      [null, 'CN=a.test'], ['a.test', 'CN=a.test'], ['b.test', 'CN=b.test'], ['c.test', 'CN=b.test'],
    ].sort());
  });

  it('shows, on the certificate, the nginx config that uses its file and the endpoints serving it', async () => {
    const [served] = (await findings('self-signed-served')).filter(onOurPort);
    const detail = (await (await controller.api(`/api/v1/certificates/${served.certificateId}`)).json()) as {
      usedBy: { service: string; configPath: string; serverNames: string[]; listen: { port: number }[] }[];
      servedAt: { port: number; serverName: string | null }[];
      locations: { path: string; keyPath: string | null }[];
    };
    expect(detail.usedBy).toEqual([expect.objectContaining({
      service: 'nginx', configPath: join(dir, 'nginx.conf'), serverNames: ['b.test', 'c.test'], listen: [{ address: '127.0.0.1', port }],
    })]);
    expect(detail.servedAt.map((e) => e.serverName).sort()).toEqual(['b.test', 'c.test']);
    expect(detail.locations).toEqual([expect.objectContaining({ path: join(dir, 'b.crt'), keyPath: join(dir, 'b.key') })]);
  });

  it('reports the self-signed certificate nginx serves, naming the endpoint', async () => {
    const served = (await findings('self-signed-served')).filter(onOurPort);
    expect(served.map((f) => f.subject)).toEqual(['CN=b.test']);
    expect(served[0].places.map((p) => p.endpoint?.serverName).sort()).toEqual(['b.test', 'c.test']);
  });

  it('reports the name nginx serves a certificate for that does not cover it', async () => {
    const mismatches = (await findings('hostname-mismatch')).filter(onOurPort);
    expect(mismatches.flatMap((f) => f.places.map((p) => p.endpoint?.serverName))).toEqual(['c.test']);
  });

  it('reports the chain that stops short of any known root', async () => {
    // The private root is on disk in the scanned directory, so the inventory knows it: a.test's chain is complete.
    expect((await findings('incomplete-chain')).filter(onOurPort)).toEqual([]);
  });

  it('reports expired, weak and unused certificates on disk, and the locked keystore, with their paths', async () => {
    expect((await findings('expired')).filter(inOurDir).map((f) => f.subject)).toEqual(['CN=old.test']);
    expect((await findings('weak')).filter(inOurDir).map((f) => [f.subject, f.places[0].detail])).toEqual([['CN=weak.test', 'RSA key of 1024 bits']]);
    const unused = (await findings('unused-on-disk')).filter(inOurDir).map((f) => f.subject).sort();
    expect(unused).toEqual(['CN=old.test', 'CN=spare.test', 'CN=weak.test']);
    const locked = (await findings('locked-keystore')).filter(inOurDir);
    expect(locked.map((f) => f.places[0].path)).toEqual([join(dir, 'locked.p12')]);
  });

  it('reports drift when the file nginx uses is renewed but nginx is not reloaded', async () => {
    const before = await readFile(join(dir, 'a.crt'), 'utf8');
    await new Promise((r) => setTimeout(r, 1100)); // a strictly later notBefore than the served certificate
    certificate('a', 'a.test', { issuer: 'root', days: 60 });
    expect(await readFile(join(dir, 'a.crt'), 'utf8')).not.toBe(before);
    const job = await controller.api(`/api/v1/agents/${(await firstAgentId())}/rescan`, { method: 'POST', body: '{}' });
    expect(job.status).toBe(202);
    const drift = await eventually(async () => {
      const found = (await findings('drift')).filter(onOurPort);
      return found.length ? found : null;
    }, 30_000, 'the drift finding');
    // Only a.crt: b.crt (made after the old a.crt) is not newer than what the no-SNI endpoint serves, which is a.test's.
    expect(new Set(drift.flatMap((f) => f.places.map((p) => p.path)))).toEqual(new Set([join(dir, 'a.crt')]));
    expect(drift[0].places[0]).toMatchObject({ path: join(dir, 'a.crt'), endpoint: { port } });
    expect(drift[0].places[0].detail).toMatch(/reload needed/);
  });
});

describe('network ranges assigned by an operator', () => {
  it('probes an assigned range inside the agent\'s allowlist and refuses one outside it, saying so', async () => {
    const agentId = await firstAgentId();
    const response = await controller.api(`/api/v1/agents/${agentId}/network-scan`, {
      method: 'PUT', body: JSON.stringify({ ranges: ['127.0.0.1/32', '10.0.0.0/8'], ports: [port] }),
    });
    expect(response.status).toBe(202);
    const problems = await eventually(async () => {
      const agentDetail = (await (await controller.api(`/api/v1/agents/${agentId}`)).json()) as { scanProblems: { path: string; message: string }[] };
      return agentDetail.scanProblems.some((p) => p.path === 'range 10.0.0.0/8') ? agentDetail.scanProblems : null;
    }, 30_000, 'the refused range to be reported');
    expect(problems.find((p) => p.path === 'range 10.0.0.0/8')?.message).toMatch(/not within this agent's networkScan.allowedRanges/);
    expect(problems.some((p) => p.path === 'range 127.0.0.1/32')).toBe(false);
    const endpoints = ((await (await controller.api('/api/v1/endpoints?limit=500')).json()) as { items: { host: string; port: number; source: string }[] }).items;
    expect(endpoints.some((e) => e.host === '127.0.0.1' && e.port === port && e.source === 'range')).toBe(true);
    expect(endpoints.some((e) => e.host.startsWith('10.'))).toBe(false);
  });
});

async function firstAgentId(): Promise<string> {
  const response = await controller.api('/api/v1/agents');
  return ((await response.json()) as { items: { id: string }[] }).items[0].id;
}
