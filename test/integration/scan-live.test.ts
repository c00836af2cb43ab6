// `certflow-agent scan --endpoints --configs`: what the host's sockets really serve, next to the files.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { freePort } from '../support/free-port.js';
import { opensslCertificate, startDaemon, stopDaemons, type Daemon } from '../support/real-servers.js';
import { runTsx } from '../support/processes.js';

let dir: string;
let port: number;
let nginx: Daemon;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'certflow-scanlive-'));
  port = await freePort();
  opensslCertificate(dir, 'site', 'live.test');
  await writeFile(join(dir, 'nginx.conf'), `
worker_processes 1; error_log ${dir}/error.log; pid ${dir}/nginx.pid;
events { worker_connections 16; }
http { access_log off; client_body_temp_path ${dir}/tmp; proxy_temp_path ${dir}/tmp; fastcgi_temp_path ${dir}/tmp; uwsgi_temp_path ${dir}/tmp; scgi_temp_path ${dir}/tmp;
  server { listen 127.0.0.1:${port} ssl; server_name live.test; ssl_certificate ${dir}/site.crt; ssl_certificate_key ${dir}/site.key; } }
`);
  nginx = await startDaemon('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log'), '-g', 'daemon off;'], { port, cwd: dir });
});

afterAll(async () => {
  if (nginx) await stopDaemons([nginx]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('certflow-agent scan --endpoints --configs', () => {
  it('adds what the listening sockets serve as tls:// occurrences, and which configs use each file', async () => {
    const scan = runTsx('agent/src/main.ts', ['scan', dir, '--json', '--endpoints', '--configs'], {});
    expect(await scan.exited).toBe(0);
    const records = scan.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    const fileRecord = records.find((r) => r.path === join(dir, 'site.crt'));
    expect(fileRecord).toMatchObject({ format: 'pem', keyPath: join(dir, 'site.key'), usedBy: expect.any(Array) });
    const expected = createHash('sha256').update(new X509Certificate(await readFile(join(dir, 'site.crt'))).raw).digest('hex');
    const served = records.filter((r) => r.format === 'tls' && r.endpoint.port === port);
    expect(served.length).toBeGreaterThan(0);
    expect(served[0]).toMatchObject({ path: `tls://127.0.0.1:${port}`, index: 0, fingerprintSha256: expected, keyPath: null });
    expect(records.every((r) => !JSON.stringify(r).includes('PRIVATE KEY'))).toBe(true);
  });
});
