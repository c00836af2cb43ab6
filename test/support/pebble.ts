// Let's Encrypt's Pebble (the RFC 8555 test CA, Debian package `pebble`) and its companion
// pebble-challtestsrv (a DNS server whose answers tests set over HTTP), started on free ports for one
// test file. Pebble ships no TLS certificate: a self-signed one for localhost/127.0.0.1 is made here and
// its PEM is what the ACME client must trust (passed as the CA's trust PEM, never a process-wide env).
// Validation is real (PEBBLE_AUTHZREUSE=0: every order validates again) but without Pebble's random
// sleeps (PEBBLE_VA_NOSLEEP=1).
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { Agent, get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { startDaemon, stopDaemons, type Daemon } from './real-servers.js';

export interface PebbleOptions {
  /** EAB mode: account creation needs one of these key ids and its base64url HMAC key. */
  eabKeys?: Record<string, string>;
  /** Extra environment for pebble (e.g. PEBBLE_VA_ALWAYS_VALID). */
  env?: Record<string, string>;
  /** HOST:PORT of the DNS server Pebble resolves with instead of challtestsrv (e.g. a knot taking RFC 2136 updates). */
  dnsServer?: string;
  /** Names Pebble refuses to order for (rejectedIdentifier), it and every name below it. */
  domainBlocklist?: string[];
}

export interface RunningPebble {
  directoryUrl: string;
  /** PEM of the self-signed certificate Pebble's ACME and management listeners present. */
  tlsTrustPem: string;
  /** The port Pebble connects to on the validated name's address for http-01 (challtestsrv answers 127.0.0.1). */
  httpChallengePort: number;
  /** challtestsrv's DNS server (UDP and TCP), which Pebble resolves names with. */
  dnsPort: number;
  /** Sets a TXT record on challtestsrv (`host` is the full name, e.g. `_acme-challenge.a.test.`). */
  setTxt(host: string, value: string): Promise<void>;
  clearTxt(host: string): Promise<void>;
  /** challtestsrv's management base URL (POST /set-txt, /clear-txt, ...). */
  challtestsrvUrl: string;
  /** The root(s) Pebble's issued chains lead to (it makes a new root on every start). */
  rootsPem(): Promise<string>;
  /** Pebble's view of a certificate it issued: `{ Status: 'Valid' | 'Revoked', ... }`. */
  certStatus(serialHex: string): Promise<{ Status: string; Reason?: number }>;
  /** Stops Pebble only (challtestsrv keeps running), for "CA unreachable" tests. */
  stopPebble(): Promise<void>;
  stop(): Promise<void>;
}

/** Generates the TLS certificate for Pebble's listeners. */
function makeTlsCertificate(dir: string): void {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '30',
    '-subj', '/CN=pebble test listener', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'pipe' });
}

export async function startPebble(options: PebbleOptions = {}): Promise<RunningPebble> {
  const dir = await mkdtemp(join(tmpdir(), 'certflow-pebble-'));
  const [acmePort, managementPort, httpChallengePort, tlsPort, dnsPort, challtestsrvPort] =
    await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort(), freePort()]);
  makeTlsCertificate(dir);
  const tlsTrustPem = await readFile(join(dir, 'cert.pem'), 'utf8');
  await writeFile(join(dir, 'pebble-config.json'), JSON.stringify({
    pebble: {
      listenAddress: `127.0.0.1:${acmePort}`,
      managementListenAddress: `127.0.0.1:${managementPort}`,
      certificate: join(dir, 'cert.pem'),
      privateKey: join(dir, 'key.pem'),
      httpPort: httpChallengePort,
      tlsPort,
      ocspResponderURL: '',
      externalAccountBindingRequired: options.eabKeys !== undefined,
      ...(options.eabKeys ? { externalAccountMACKeys: options.eabKeys } : {}),
      ...(options.domainBlocklist ? { domainBlocklist: options.domainBlocklist } : {}),
    },
  }));

  const daemons: Daemon[] = [];
  try {
    // DNS only: http-01 is answered by whoever the test puts on httpChallengePort (an agent, or a test server).
    daemons.push(await startDaemon('pebble-challtestsrv', [
      '-dns01', `127.0.0.1:${dnsPort}`, '-http01', '', '-https01', '', '-tlsalpn01', '', '-defaultIPv6', '',
      '-defaultIPv4', '127.0.0.1', '-management', `127.0.0.1:${challtestsrvPort}`,
    ], { port: challtestsrvPort, cwd: dir }));
    daemons.push(await startDaemon('pebble', ['-config', join(dir, 'pebble-config.json'), '-dnsserver', options.dnsServer ?? `127.0.0.1:${dnsPort}`], {
      port: acmePort, cwd: dir,
      env: { PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0', ...options.env },
    }));
  } catch (err) {
    await stopDaemons(daemons);
    await rm(dir, { recursive: true, force: true });
    throw err;
  }

  const agent = new Agent({ ca: tlsTrustPem });
  const challtestsrvUrl = `http://127.0.0.1:${challtestsrvPort}`;
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${challtestsrvUrl}${path}`, { method: 'POST', body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`challtestsrv ${path}: HTTP ${res.status} ${await res.text()}`);
  };
  const management = (path: string) => new Promise<string>((resolve, reject) => {
    get(`https://127.0.0.1:${managementPort}${path}`, { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`pebble ${path}: HTTP ${res.statusCode}`))));
    }).on('error', reject);
  });

  return {
    directoryUrl: `https://127.0.0.1:${acmePort}/dir`,
    tlsTrustPem,
    httpChallengePort,
    dnsPort,
    challtestsrvUrl,
    setTxt: (host, value) => post('/set-txt', { host, value }),
    clearTxt: (host) => post('/clear-txt', { host }),
    rootsPem: () => management('/roots/0'),
    certStatus: async (serialHex) => JSON.parse(await management(`/cert-status-by-serial/${serialHex.replace(/^0+/, '')}`)),
    async stopPebble() {
      await stopDaemons(daemons.filter((d) => d.name === 'pebble'));
    },
    async stop() {
      agent.destroy();
      await stopDaemons(daemons);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
