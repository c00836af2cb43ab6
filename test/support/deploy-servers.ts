// Real nginx, Apache httpd and HAProxy for deploy tests: config trees in a temp dir, started in the
// foreground on free loopback ports with the helpers in real-servers.ts, plus what a deploy needs around
// them (a DeployEnvironment, file hashes to prove "nothing changed").
import { createHash } from 'node:crypto';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { resolveAllowedRoots } from '../../agent/src/deploy/allowed-paths.js';
import { createCommandRunner, DEFAULT_COMMAND_LIMITS, type CommandAllowlist } from '../../agent/src/deploy/commands.js';
import { DEFAULT_SERVICE_BINARIES, type DeployEnvironment } from '../../agent/src/deploy/deploy-target.js';
import { startDaemon, type Daemon } from './real-servers.js';

export async function deployEnvironment(options: {
  allowedPaths: string[];
  serviceConfigFiles?: string[];
  commands?: CommandAllowlist;
  apacheEnvironment?: Record<string, string>;
}): Promise<DeployEnvironment> {
  return {
    allowedRoots: await resolveAllowedRoots(options.allowedPaths),
    serviceConfigFiles: options.serviceConfigFiles ?? [],
    commands: createCommandRunner(options.commands ?? {}),
    limits: DEFAULT_COMMAND_LIMITS,
    binaries: DEFAULT_SERVICE_BINARIES,
    apacheEnvironment: options.apacheEnvironment,
    log: pino({ level: process.env.CERTFLOW_TEST_LOG ?? 'silent' }),
  };
}

export async function sha256Of(path: string): Promise<string | null> {
  return readFile(path).then((b) => createHash('sha256').update(b).digest('hex'), () => null);
}

export async function hashes(paths: string[]): Promise<Record<string, string | null>> {
  return Object.fromEntries(await Promise.all(paths.map(async (p) => [p, await sha256Of(p)])));
}

export interface TlsSite {
  port: number;
  serverNames: string[];
  certificatePath: string;
  keyPath: string;
  /** nginx only: extra directives inside the server block. */
  extra?: string;
}

/** An nginx tree under `base` (pid file named in the config, so `nginx -s reload -c` finds the master). */
export async function writeNginx(base: string, sites: TlsSite[]): Promise<string> {
  await mkdir(join(base, 'temp'), { recursive: true });
  const servers = sites.map((s) => `  server {
    listen 127.0.0.1:${s.port} ssl;
    server_name ${s.serverNames.join(' ')};
    ssl_certificate ${s.certificatePath};
    ssl_certificate_key ${s.keyPath};
${s.extra ?? ''}
    return 200 "ok\\n";
  }`).join('\n');
  const conf = join(base, 'nginx.conf');
  await writeFile(conf, `worker_processes 1;
pid ${base}/nginx.pid;
error_log ${base}/error.log;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${base}/temp/body;
  proxy_temp_path ${base}/temp/proxy;
  fastcgi_temp_path ${base}/temp/fastcgi;
  uwsgi_temp_path ${base}/temp/uwsgi;
  scgi_temp_path ${base}/temp/scgi;
${servers}
}
`);
  return conf;
}

export function startNginx(base: string, conf: string, port: number): Promise<Daemon> {
  return startDaemon('nginx', ['-p', base, '-e', join(base, 'error.log'), '-c', conf, '-g', 'daemon off;'], { port, cwd: base });
}

/** What Debian's envvars would export, pointed into `base`. */
export function apacheEnvironment(base: string): Record<string, string> {
  return {
    APACHE_RUN_DIR: join(base, 'run'), APACHE_PID_FILE: join(base, 'run/apache2.pid'), APACHE_LOCK_DIR: join(base, 'lock'),
    APACHE_LOG_DIR: join(base, 'log'), APACHE_RUN_USER: 'www-data', APACHE_RUN_GROUP: 'www-data',
  };
}

export async function writeApache(base: string, port: number, vhosts: (TlsSite & { chainPath?: string })[]): Promise<string> {
  for (const d of ['run', 'lock', 'log', 'mods-enabled']) await mkdir(join(base, d), { recursive: true });
  for (const mod of ['mpm_event.load', 'authz_core.load', 'mime.load', 'socache_shmcb.load', 'ssl.load', 'ssl.conf']) {
    await symlink(`/etc/apache2/mods-available/${mod}`, join(base, 'mods-enabled', mod));
  }
  await writeFile(join(base, 'mime.types'), '');
  const hosts = vhosts.map((v) => `<VirtualHost 127.0.0.1:${port}>
  ServerName ${v.serverNames[0]}
${v.serverNames.slice(1).map((n) => `  ServerAlias ${n}\n`).join('')}  SSLEngine on
  SSLCertificateFile ${v.certificatePath}
  SSLCertificateKeyFile ${v.keyPath}
${v.chainPath ? `  SSLCertificateChainFile ${v.chainPath}\n` : ''}</VirtualHost>`).join('\n');
  const conf = join(base, 'apache2.conf');
  await writeFile(conf, `DefaultRuntimeDir \${APACHE_RUN_DIR}
PidFile \${APACHE_PID_FILE}
User \${APACHE_RUN_USER}
Group \${APACHE_RUN_GROUP}
ErrorLog \${APACHE_LOG_DIR}/error.log
LogLevel warn
IncludeOptional mods-enabled/*.load
IncludeOptional mods-enabled/*.conf
StartServers 1
ServerLimit 1
ThreadsPerChild 4
MaxRequestWorkers 4
Listen 127.0.0.1:${port}
${hosts}
`);
  return conf;
}

export function startApache(base: string, conf: string, port: number): Promise<Daemon> {
  return startDaemon('apache2', ['-d', base, '-f', conf, '-DFOREGROUND'], { port, cwd: base, env: apacheEnvironment(base) });
}

/** A master-worker HAProxy (reload = SIGUSR2 to the master, as systemd's haproxy.service does). */
export async function writeHaproxy(base: string, binds: { port: number; crt: string }[], crtBase?: string): Promise<string> {
  const conf = join(base, 'haproxy.cfg');
  await writeFile(conf, `global
  pidfile ${base}/haproxy.pid
${crtBase ? `  crt-base ${crtBase}\n` : ''}defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend www
${binds.map((b) => `  bind 127.0.0.1:${b.port} ssl ${b.crt}`).join('\n')}
  http-request return status 200 content-type text/plain string "ok"
`);
  return conf;
}

export function startHaproxy(base: string, conf: string, port: number): Promise<Daemon> {
  return startDaemon('haproxy', ['-W', '-db', '-f', conf], { port, cwd: base });
}
