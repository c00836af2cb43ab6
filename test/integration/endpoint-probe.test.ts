// Endpoint discovery against real servers on loopback: nginx choosing a certificate by SNI (one of them
// served with its intermediate), haproxy with a combined PEM, and Node servers that are not TLS at all.
// Certificates come from the openssl command line, the way an operator would make them.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { connect, createServer, type Server } from 'node:net';
import { endianness, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  listListeningTcpSockets,
  planLocalProbes,
  probeLocalEndpoints,
  probeTls,
  scanRanges,
  type TlsProbeResult,
} from '../../agent/src/discovery/endpoints/index.js';
import { closedPort, freePort } from '../support/free-port.js';
import { eventually, repoRoot } from '../support/processes.js';

let dir: string;
const daemons: { name: string; child: ChildProcess; output: () => string }[] = [];
const nodeServers: Server[] = [];
const ports = { nginx: 0, haproxy: 0, silent: 0, http: 0, ssh: 0, closed: 0, ipv6: 0 };
const certs: Record<'a' | 'b' | 'bIntermediate' | 'c', X509Certificate> = {} as never;
let silentServer: Server;

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

// Test-only CA tooling: a self-signed leaf, or a leaf signed by an intermediate signed by a root.
function selfSigned(name: string): void {
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`,
    '-out', `${name}.crt`, '-days', '30', '-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name}`);
}

function signed(name: string, issuer: string, subject: string, extensions: string): void {
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`,
    '-out', `${name}.csr`, '-subj', `/CN=${subject}`);
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${issuer}.crt`, '-CAkey', `${issuer}.key`, '-CAcreateserial',
    '-out', `${name}.crt`, '-days', '30', '-extfile', extensions);
}

async function certificate(file: string): Promise<X509Certificate> {
  return new X509Certificate(await readFile(join(dir, file)));
}

/** Debian puts nginx and haproxy in /usr/sbin, which a test runner's PATH may lack. */
function binary(name: string): string {
  const found = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin'].map((d) => join(d, name)).find(existsSync);
  if (!found) throw new Error(`${name} is not installed (apt-get install ${name})`);
  return found;
}

async function startDaemon(name: string, command: string, args: string[], port: number): Promise<void> {
  const child = spawn(binary(command), args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  daemons.push({ name, child, output: () => output });
  await eventually(async () => {
    if (child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode}): ${output}`);
    return accepts(port);
  }, 15_000, `${name} listening on ${port}`);
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

async function listen(server: Server, host: string): Promise<number> {
  nodeServers.push(server);
  await new Promise<void>((resolve) => server.listen({ host, port: 0 }, resolve));
  return (server.address() as { port: number }).port;
}

function leaf(result: TlsProbeResult): X509Certificate {
  if (!result.ok) throw new Error(`probe of ${result.host}:${result.port} failed: ${result.error}`);
  return new X509Certificate(result.chain[0]);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'certflow-endpoints-'));
  selfSigned('a.test');
  selfSigned('c.test');
  await writeFile(join(dir, 'ca.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n');
  await writeFile(join(dir, 'leaf.ext'), 'basicConstraints=CA:FALSE\nsubjectAltName=DNS:b.test\n');
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'root.key',
    '-out', 'root.crt', '-days', '30', '-subj', '/CN=Test Root', '-addext', 'basicConstraints=critical,CA:TRUE');
  signed('intermediate', 'root', 'Test Intermediate', 'ca.ext');
  signed('b.test', 'intermediate', 'b.test', 'leaf.ext');
  const [bLeaf, intermediate, cCrt, cKey] = await Promise.all(
    ['b.test.crt', 'intermediate.crt', 'c.test.crt', 'c.test.key'].map((f) => readFile(join(dir, f), 'utf8')));
  await writeFile(join(dir, 'b.test.chain.crt'), bLeaf + intermediate);
  // haproxy takes certificate and key in one file.
  await writeFile(join(dir, 'c.test.pem'), cCrt + cKey, { mode: 0o600 });
  certs.a = await certificate('a.test.crt');
  certs.b = await certificate('b.test.crt');
  certs.bIntermediate = await certificate('intermediate.crt');
  certs.c = await certificate('c.test.crt');

  [ports.nginx, ports.haproxy, ports.closed] = [await freePort(), await freePort(), await closedPort()];
  await mkdir(join(dir, 'temp'));
  // The first server block is the default: what a client without SNI (or with an unknown name) gets.
  await writeFile(join(dir, 'nginx.conf'), `
worker_processes 1;
error_log ${dir}/nginx-error.log;
events { worker_connections 64; }
http {
  access_log ${dir}/nginx-access.log;
  client_body_temp_path ${dir}/temp/body;
  proxy_temp_path ${dir}/temp/proxy;
  fastcgi_temp_path ${dir}/temp/fastcgi;
  uwsgi_temp_path ${dir}/temp/uwsgi;
  scgi_temp_path ${dir}/temp/scgi;
  server {
    listen 127.0.0.1:${ports.nginx} ssl http2;
    server_name a.test;
    ssl_certificate ${dir}/a.test.crt;
    ssl_certificate_key ${dir}/a.test.key;
    return 200 "a\\n";
  }
  server {
    listen 127.0.0.1:${ports.nginx} ssl http2;
    server_name b.test;
    ssl_certificate ${dir}/b.test.chain.crt;
    ssl_certificate_key ${dir}/b.test.key;
    return 200 "b\\n";
  }
}
`);
  await writeFile(join(dir, 'haproxy.cfg'), `
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend tls
  bind 127.0.0.1:${ports.haproxy} ssl crt ${dir}/c.test.pem alpn http/1.1
  http-request return status 200 content-type text/plain string "c"
`);
  await Promise.all([
    startDaemon('nginx', 'nginx', ['-p', dir, '-e', `${dir}/nginx-error.log`, '-c', `${dir}/nginx.conf`,
      '-g', `daemon off; pid ${dir}/nginx.pid;`], ports.nginx),
    startDaemon('haproxy', 'haproxy', ['-f', join(dir, 'haproxy.cfg'), '-db'], ports.haproxy),
  ]);

  // Accepts and never says a word: the handshake can only time out. It reads (and drops) what it is sent,
  // so it notices when the prober closes the connection.
  silentServer = createServer((socket) => socket.on('error', () => undefined).resume());
  ports.silent = await listen(silentServer, '127.0.0.1');
  ports.http = await listen(createHttpServer((_request, response) => response.end('plain\n')), '127.0.0.1');
  // An SSH server speaks first, with its banner.
  ports.ssh = await listen(createServer((socket) => socket.on('error', () => undefined).end('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n')), '127.0.0.1');
  ports.ipv6 = await listen(createServer((socket) => socket.destroy()), '::1');
}, 60_000);

afterAll(async () => {
  for (const { child } of daemons) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  }
  await Promise.all(daemons.map(({ child }) => child.exitCode !== null || child.signalCode !== null
    ? undefined
    : new Promise((resolve) => child.once('exit', resolve))));
  for (const server of nodeServers) {
    (server as Server & { closeAllConnections?: () => void }).closeAllConnections?.();
    server.close();
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('listListeningTcpSockets', () => {
  it('includes the ports nginx, haproxy and the test servers listen on, IPv4 and IPv6', async () => {
    const sockets = await listListeningTcpSockets();
    for (const port of [ports.nginx, ports.haproxy, ports.silent, ports.http]) {
      expect(sockets).toContainEqual({ address: '127.0.0.1', port });
    }
    expect(sockets).toContainEqual({ address: '::1', port: ports.ipv6 });
    expect(sockets.some((s) => s.port === ports.closed)).toBe(false);
  });

  // The kernel writes each address word in host byte order; these rows are what a little-endian host shows.
  it.skipIf(endianness() !== 'LE')('decodes /proc rows, maps wildcard and IPv4-mapped addresses, and lists each socket once', async () => {
    const procNetDir = join(dir, 'proc-net');
    await mkdir(procNetDir, { recursive: true });
    const header = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
    const row = (local: string, state: string) => `   0: ${local} 00000000:0000 ${state} 00000000:00000000 00:00000000 00000000     0        0 1 1\n`;
    await writeFile(join(procNetDir, 'tcp'), header + row('0100007F:01BB', '0A') + row('00000000:0050', '0A')
      + row('0100007F:01BB', '0A') + row('0100007F:D431', '01') + row('0202000A:1F90', '0A'));
    await writeFile(join(procNetDir, 'tcp6'), header + row('00000000000000000000000001000000:01BB', '0A')
      + row('00000000000000000000000000000000:0050', '0A') + row('0000000000000000FFFF00000100007F:0016', '0A')
      + row('B80D0120000000000000000001000000:2000', '0A'));
    expect(await listListeningTcpSockets({ procNetDir })).toEqual([
      { address: '127.0.0.1', port: 22 },
      { address: '127.0.0.1', port: 80 },
      { address: '::1', port: 80 },
      { address: '127.0.0.1', port: 443 },
      { address: '::1', port: 443 },
      { address: '10.0.2.2', port: 8080 },
      { address: '2001:db8::1', port: 8192 },
    ]);
  });

  it('returns nothing, without an error, on a host without /proc/net', async () => {
    expect(await listListeningTcpSockets({ procNetDir: join(dir, 'no-such-dir') })).toEqual([]);
  });
});

describe('probeTls', () => {
  it('records the certificate nginx selects for each server name', async () => {
    const a = await probeTls({ host: '127.0.0.1', port: ports.nginx, serverName: 'a.test' });
    const b = await probeTls({ host: '127.0.0.1', port: ports.nginx, serverName: 'b.test' });
    const none = await probeTls({ host: '127.0.0.1', port: ports.nginx });
    expect(leaf(a).fingerprint256).toBe(certs.a.fingerprint256);
    expect(leaf(b).fingerprint256).toBe(certs.b.fingerprint256);
    expect(leaf(none).fingerprint256).toBe(certs.a.fingerprint256);
    // nginx before 1.23.4 leaves TLS 1.3 out of its default ssl_protocols; later ones negotiate it.
    expect(a).toMatchObject({ serverName: 'a.test', protocol: expect.stringMatching(/^TLSv1\.[23]$/), alpn: 'h2', authorized: false });
    expect(none).toMatchObject({ serverName: null, authorizationError: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
  });

  it('records the chain as served: leaf, then the intermediate, and not the root the server left out', async () => {
    const b = await probeTls({ host: '127.0.0.1', port: ports.nginx, serverName: 'b.test' });
    if (!b.ok) throw new Error(b.error);
    expect(b.chain.map((der) => new X509Certificate(der).subject)).toEqual(['CN=b.test', 'CN=Test Intermediate']);
    expect(b.chain[1].equals(certs.bIntermediate.raw)).toBe(true);
    expect(b.authorizationError).toBe('UNABLE_TO_GET_ISSUER_CERT_LOCALLY');
  });

  it('says a client trusting the root would accept the chain, still without recording the root', async () => {
    // Node reads extra trust anchors only at start-up, so this probe runs in a child process.
    const script = join(dir, 'trusting-client.mts');
    await writeFile(script, `import { probeTls } from ${JSON.stringify(join(repoRoot, 'agent/src/discovery/endpoints/tls-probe.ts'))};
const r = await probeTls({ host: '127.0.0.1', port: ${ports.nginx}, serverName: 'b.test' });
console.log(JSON.stringify(r.ok ? { authorized: r.authorized, error: r.authorizationError, chain: r.chain.length } : r));`);
    const output = execFileSync(process.execPath, ['--import', 'tsx', script], {
      cwd: repoRoot, env: { ...process.env, NODE_EXTRA_CA_CERTS: join(dir, 'root.crt') }, encoding: 'utf8',
    });
    expect(JSON.parse(output)).toEqual({ authorized: true, error: null, chain: 2 });
  });

  it('records the certificate haproxy serves from a combined PEM', async () => {
    const c = await probeTls({ host: '127.0.0.1', port: ports.haproxy, serverName: 'c.test' });
    expect(leaf(c).fingerprint256).toBe(certs.c.fingerprint256);
    expect(c).toMatchObject({ ok: true, alpn: 'http/1.1', chain: [certs.c.raw] });
  });

  it('times out on a server that accepts and never answers, and closes the connection', async () => {
    const started = performance.now();
    const result = await probeTls({ host: '127.0.0.1', port: ports.silent }, { timeoutMs: 300 });
    const elapsed = performance.now() - started;
    expect(result).toMatchObject({ ok: false, error: 'timeout' });
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(2_000);
    await eventually(() => new Promise<boolean>((resolve) => silentServer.getConnections((_e, n) => resolve(n === 0))), 5_000, 'no open connections');
  });

  it('says a plain HTTP or SSH server is not TLS', async () => {
    for (const port of [ports.http, ports.ssh]) {
      const result = await probeTls({ host: '127.0.0.1', port }, { timeoutMs: 2_000 });
      expect(result.ok).toBe(false);
      expect(!result.ok && result.error).toMatch(/^not TLS: [a-z]/);
    }
  });

  it('reports a closed port as refused, at once', async () => {
    const started = performance.now();
    expect(await probeTls({ host: '127.0.0.1', port: ports.closed })).toMatchObject({ ok: false, error: 'refused' });
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('rejects with the abort reason when cancelled mid-handshake', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('shutting down')), 50);
    await expect(probeTls({ host: '127.0.0.1', port: ports.silent }, { signal: controller.signal })).rejects.toThrow('shutting down');
  });
});

describe('planLocalProbes', () => {
  it('plans each socket without SNI, then each name a client could send, and reports what the bound leaves out', () => {
    const sockets = [{ address: '127.0.0.1', port: 443 }, { address: '::1', port: 443 }, { address: '127.0.0.1', port: 8443 }];
    const names = new Map([[443, ['www.example.test', 'WWW.example.test.', '*.example.test', '~^api\\d+', '_', '192.0.2.1', 'api.example.test']]]);
    const plan = planLocalProbes(sockets, names, { maxTargets: 6 });
    expect(plan.targets).toEqual([
      { host: '127.0.0.1', port: 443 }, { host: '::1', port: 443 }, { host: '127.0.0.1', port: 8443 },
      { host: '127.0.0.1', port: 443, serverName: 'www.example.test' }, { host: '127.0.0.1', port: 443, serverName: 'api.example.test' },
      { host: '::1', port: 443, serverName: 'www.example.test' },
    ]);
    expect(plan.skipped).toBe(1);
    expect(planLocalProbes(sockets, names).skipped).toBe(0);
  });
});

describe('probeLocalEndpoints', () => {
  it('probes each listening socket without SNI and once per server name the configs give', async () => {
    const ours = new Set([ports.nginx, ports.haproxy]);
    const report = await probeLocalEndpoints({
      // Only our servers, on loopback: other services on this host are none of this test's business.
      filter: (socket) => ours.has(socket.port) && socket.address === '127.0.0.1',
      serverNamesByPort: new Map([[ports.nginx, ['a.test', 'B.TEST.', '*.wildcard.test', '_']], [ports.haproxy, ['c.test']]]),
      timeoutMs: 3_000,
    });
    const byPort = (x: [number, ...unknown[]], y: [number, ...unknown[]]) => x[0] - y[0];
    // Plan order: every socket bare, by port; then the names of each socket, as the config gave them.
    const bare: [number, null, string][] = [[ports.nginx, null, 'CN=a.test'], [ports.haproxy, null, 'CN=c.test']];
    const named: [number, string, string][] = [
      [ports.nginx, 'a.test', 'CN=a.test'], [ports.nginx, 'b.test', 'CN=b.test'], [ports.haproxy, 'c.test', 'CN=c.test'],
    ];
    expect(report.results.map((r) => [r.port, r.serverName, leaf(r).subject])).toEqual([...bare.sort(byPort), ...named.sort(byPort)]);
    expect(report.skipped).toBe(0);
  });
});

describe('scanRanges', () => {
  it('finds the TLS servers on 127.0.0.1/32 and reports the closed port as refused', async () => {
    const results: TlsProbeResult[] = [];
    for await (const result of scanRanges({
      ranges: ['127.0.0.1/32'], ports: [ports.nginx, ports.haproxy, ports.closed], maxAddresses: 1, timeoutMs: 3_000,
    })) results.push(result);
    const byPort = new Map(results.map((r) => [r.port, r]));
    expect(results).toHaveLength(3);
    expect(leaf(byPort.get(ports.nginx)!).fingerprint256).toBe(certs.a.fingerprint256);
    expect(leaf(byPort.get(ports.haproxy)!).fingerprint256).toBe(certs.c.fingerprint256);
    expect(byPort.get(ports.closed)).toMatchObject({ ok: false, error: 'refused' });
  });
});
