// Knot DNS (Debian package `knot`) as the authoritative server of one zone that takes RFC 2136 updates
// signed with one TSIG key, on a free port (UDP and TCP) of 127.0.0.1, for the rfc2136 dns-01 provider.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port.js';
import { binary, startDaemon, stopDaemons } from './real-servers.js';

export interface RunningKnot {
  /** `127.0.0.1:PORT` */
  server: string;
  port: number;
  zone: string;
  tsigKeyName: string;
  /** base64 */
  tsigSecret: string;
  /** The TXT values at `name`, asked over DNS with kdig. */
  txt(name: string): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startKnot(zone: string): Promise<RunningKnot> {
  const dir = await mkdtemp(join(tmpdir(), 'certflow-knot-'));
  const port = await freePort();
  const tsigKeyName = 'certflow-update';
  const tsigSecret = randomBytes(32).toString('base64');
  await writeFile(join(dir, `${zone}.zone`), [
    `$ORIGIN ${zone}.`, '$TTL 60',
    '@ SOA ns1 hostmaster 1 3600 600 86400 60', '@ NS ns1', 'ns1 A 127.0.0.1', '@ A 127.0.0.1', '* A 127.0.0.1', '',
  ].join('\n'));
  await writeFile(join(dir, 'knot.conf'), `
server:
    rundir: "${dir}"
    listen: 127.0.0.1@${port}
database:
    storage: "${dir}"
key:
  - id: ${tsigKeyName}
    algorithm: hmac-sha256
    secret: ${tsigSecret}
acl:
  - id: updates
    key: ${tsigKeyName}
    action: update
template:
  - id: default
    storage: "${dir}"
zone:
  - domain: ${zone}
    file: "${zone}.zone"
    acl: updates
log:
  - target: stderr
    any: info
`);
  const daemon = await startDaemon('knotd', ['-c', join(dir, 'knot.conf')], { port, cwd: dir });
  return {
    server: `127.0.0.1:${port}`,
    port,
    zone,
    tsigKeyName,
    tsigSecret,
    async txt(name) {
      const { stdout } = await promisify(execFile)(binary('kdig'), [`@127.0.0.1`, '-p', String(port), '+short', 'TXT', name]);
      return stdout.split('\n').filter(Boolean).map((line) => line.replace(/^"|"$/g, '')).sort();
    },
    async stop() {
      await stopDaemons([daemon]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
