// Real nginx, Apache httpd and HAProxy for tests: find the binary, run its config check, start it in the
// foreground until it accepts connections, stop it, and ask it over TLS which certificate it presents.
// Certificates come from the openssl command line, the way an operator makes them.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { delimiter, join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { promisify } from 'node:util';
import { eventually } from './processes.js';

export interface Daemon {
  name: string;
  child: ChildProcess;
  output(): string;
}

/** Debian puts nginx, apache2 and haproxy in /usr/sbin, which a test runner's PATH may lack. */
export function binary(name: string): string {
  const found = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin'].map((d) => join(d, name)).find(existsSync);
  if (!found) throw new Error(`${name} is not installed (apt-get install ${name})`);
  return found;
}

/** Runs a server's config check; resolves with its output, rejects with it when the config is refused. */
export async function validateConfig(command: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  const { stdout, stderr } = await promisify(execFile)(binary(command), args, { env: { ...process.env, ...env } })
    .catch((err: { stderr?: string; message: string }) => {
      throw new Error(`${command} ${args.join(' ')} refused the config: ${err.stderr ?? err.message}`);
    });
  return stdout + stderr;
}

/** Starts a server in the foreground and waits until 127.0.0.1:port accepts connections. */
export async function startDaemon(command: string, args: string[], options: { port: number; cwd: string; env?: Record<string, string> }): Promise<Daemon> {
  const child = spawn(binary(command), args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const daemon = { name: command, child, output: () => output };
  await eventually(async () => {
    if (child.exitCode !== null) throw new Error(`${command} exited (${child.exitCode}): ${output}`);
    return accepts(options.port);
  }, 15_000, `${command} listening on ${options.port}`).catch(async (err) => {
    await stopDaemons([daemon]);
    throw err;
  });
  return daemon;
}

export async function stopDaemons(daemons: Daemon[]): Promise<void> {
  const running = daemons.filter(({ child }) => child.exitCode === null && child.signalCode === null);
  const exited = running.map(({ child }) => new Promise((resolve) => child.once('exit', resolve)));
  for (const { child } of running) child.kill('SIGTERM');
  await Promise.all(exited);
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

/** A self-signed certificate for name and www.name in dir/stem.crt, its key in dir/stem.key. */
export function opensslCertificate(dir: string, stem: string, name: string, key: 'ec' | 'rsa' = 'ec'): void {
  const keyArgs = key === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-newkey', 'rsa:2048'];
  execFileSync('openssl', ['req', '-x509', ...keyArgs, '-nodes', '-days', '30', '-subj', `/CN=${name}`,
    '-addext', `subjectAltName=DNS:${name},DNS:www.${name}`, '-keyout', join(dir, `${stem}.key`), '-out', join(dir, `${stem}.crt`)],
  { stdio: 'pipe' });
}

/** stem.crt followed by stem.key in one file, as HAProxy (and Apache without SSLCertificateKeyFile) take it. */
export async function combinedPem(dir: string, stem: string, into: string): Promise<void> {
  const pem = (await readFile(join(dir, `${stem}.crt`), 'utf8')) + (await readFile(join(dir, `${stem}.key`), 'utf8'));
  await writeFile(join(dir, into), pem, { mode: 0o600 });
}

/** The SHA-256 fingerprint of the certificate a server presents for this SNI; sigalgs steers RSA versus ECDSA. */
export function servedFingerprint(host: string, port: number, servername: string, sigalgs?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host, port, servername, rejectUnauthorized: false, sigalgs }, () => {
      const served = socket.getPeerX509Certificate();
      socket.destroy();
      if (served) resolve(served.fingerprint256);
      else reject(new Error('no certificate served'));
    });
    socket.setTimeout(5_000, () => socket.destroy(new Error(`handshake with ${host}:${port} (${servername}) timed out`)));
    socket.once('error', reject);
  });
}
