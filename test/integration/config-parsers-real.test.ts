// The config parsers against the real servers: for nginx, Apache httpd and HAProxy a config tree is written
// to a temp dir in Debian's layout, the server's own binary validates it (so the parsed config is one the
// server accepts), and the bindings the parser finds are asserted. Then each server runs on free loopback
// ports and, for every binding, every listen address and every server name, a TLS handshake with that SNI
// must be served the certificate in the binding's file: the binding is the one the server actually uses.
import { X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseApache, parseHaproxy, parseNginx, type ServiceBinding } from '../../agent/src/discovery/configs/index.js';
import { freePort } from '../support/free-port.js';
import {
  combinedPem, opensslCertificate, servedFingerprint, startDaemon, stopDaemons, validateConfig, type Daemon,
} from '../support/real-servers.js';

let dir: string;
const daemons: Daemon[] = [];

async function start(command: string, args: string[], port: number, env: Record<string, string> = {}): Promise<void> {
  daemons.push(await startDaemon(command, args, { port, cwd: dir, env }));
}

async function files(base: string, contents: Record<string, string>): Promise<void> {
  for (const [name, text] of Object.entries(contents)) {
    await mkdir(dirname(join(base, name)), { recursive: true });
    await writeFile(join(base, name), text, { mode: 0o600 });
  }
}

/** Every binding × listen address × server name: the server presents the binding's certificate. */
async function expectServedAsBound(bindings: ServiceBinding[]): Promise<number> {
  let handshakes = 0;
  for (const binding of bindings) {
    const certificate = new X509Certificate(await readFile(binding.certificatePath));
    const expected = certificate.fingerprint256;
    const sigalgs = certificate.publicKey.asymmetricKeyType === 'rsa' ? 'rsa_pss_rsae_sha256:RSA+SHA256' : 'ECDSA+SHA256';
    for (const { address, port } of binding.listen) {
      for (const name of binding.serverNames.filter((n) => !n.includes('*') && !n.startsWith('~'))) {
        const served = await servedFingerprint(address ?? '127.0.0.1', port, name, sigalgs);
        expect({ name, address, port, served }).toEqual({ name, address, port, served: expected });
        handshakes++;
      }
    }
  }
  return handshakes;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'certflow-config-servers-'));
}, 60_000);

afterAll(async () => {
  await stopDaemons(daemons);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('nginx', () => {
  let base: string;
  let port: number;
  let bindings: ServiceBinding[];

  beforeAll(async () => {
    base = join(dir, 'nginx');
    port = await freePort();
    await mkdir(join(base, 'ssl'), { recursive: true });
    opensslCertificate(join(base, 'ssl'), 'default', 'default.example');
    opensslCertificate(join(base, 'ssl'), 'shop', 'shop.example');
    opensslCertificate(join(base, 'ssl'), 'api-rsa', 'api.example', 'rsa');
    opensslCertificate(join(base, 'ssl'), 'api-ecdsa', 'api.example');
    await files(base, {
      // As Debian ships it, trimmed, with every absolute path inside the temp dir; pid and daemon come from -g.
      'nginx.conf': `worker_processes 1;
error_log ${base}/error.log;
events { worker_connections 64; }
http {
  access_log ${base}/access.log;
  client_body_temp_path ${base}/temp/body;
  proxy_temp_path ${base}/temp/proxy;
  fastcgi_temp_path ${base}/temp/fastcgi;
  uwsgi_temp_path ${base}/temp/uwsgi;
  scgi_temp_path ${base}/temp/scgi;
  ssl_protocols TLSv1.2 TLSv1.3;
  # The default certificate for servers that set none.
  ssl_certificate ssl/default.crt;
  ssl_certificate_key ssl/default.key;
  include ${base}/sites-enabled/*;
}
`,
      'snippets/shop-tls.conf': 'ssl_certificate ssl/shop.crt;\nssl_certificate_key ssl/shop.key;\n',
      'sites-enabled/default': `server {\n  listen 127.0.0.1:${port} ssl default_server;\n  server_name _ default.example;\n  return 200 "default\\n";\n}\n`,
      'sites-enabled/shop': `server {
  listen 127.0.0.1:${port} ssl http2;
  listen [::1]:${port} ssl http2;
  server_name shop.example www.shop.example;
  include snippets/shop-tls.conf;
  location / { return 200 "shop\\n"; }
}
`,
      'sites-enabled/api': `server {
  listen 127.0.0.1:${port} ssl;
  server_name "api.example";
  ssl_certificate     ${base}/ssl/api-rsa.crt;
  ssl_certificate_key ${base}/ssl/api-rsa.key;
  ssl_certificate     ${base}/ssl/api-ecdsa.crt;
  ssl_certificate_key ${base}/ssl/api-ecdsa.key;
  return 200 "api\\n";
}
`,
    });
    await mkdir(join(base, 'temp'));
    await validateConfig('nginx', ['-t', '-p', base, '-e', join(base, 'error.log'), '-c', join(base, 'nginx.conf')]);
    ({ bindings } = await parseNginx(join(base, 'nginx.conf')));
    await start('nginx', ['-p', base, '-e', join(base, 'error.log'), '-c', join(base, 'nginx.conf'),
      '-g', `daemon off; pid ${base}/nginx.pid;`], port);
  }, 60_000);

  it('finds each server\'s certificates, keys, names and listen addresses in a config nginx -t accepts', async () => {
    const { problems } = await parseNginx(join(base, 'nginx.conf'));
    expect(problems).toEqual([]);
    const v4 = { address: '127.0.0.1', port };
    // In include order: sites-enabled/* expands to api, default, shop.
    expect(bindings.map((b) => [b.configPath, b.line, b.certificatePath, b.keyPath, b.serverNames, b.listen])).toEqual([
      [join(base, 'sites-enabled/api'), 4, join(base, 'ssl/api-rsa.crt'), join(base, 'ssl/api-rsa.key'), ['api.example'], [v4]],
      [join(base, 'sites-enabled/api'), 6, join(base, 'ssl/api-ecdsa.crt'), join(base, 'ssl/api-ecdsa.key'), ['api.example'], [v4]],
      [join(base, 'nginx.conf'), 13, join(base, 'ssl/default.crt'), join(base, 'ssl/default.key'), ['default.example'], [v4]],
      [join(base, 'snippets/shop-tls.conf'), 1, join(base, 'ssl/shop.crt'), join(base, 'ssl/shop.key'), ['shop.example', 'www.shop.example'], [v4, { address: '::1', port }]],
    ]);
  });

  it('is served, for every name and address of every binding, the certificate the binding names', async () => {
    expect(await expectServedAsBound(bindings)).toBe(7);
  });
});

describe('Apache httpd', () => {
  let base: string;
  let port: number;
  let bindings: ServiceBinding[];
  let env: Record<string, string>;

  beforeAll(async () => {
    base = join(dir, 'apache2');
    port = await freePort();
    await mkdir(join(base, 'ssl'), { recursive: true });
    opensslCertificate(join(base, 'ssl'), 'shop', 'shop.example');
    opensslCertificate(join(base, 'ssl'), 'blog', 'blog.example');
    opensslCertificate(join(base, 'ssl'), 'chain', 'Test Chain');
    await combinedPem(join(base, 'ssl'), 'blog', 'blog.pem');
    // What Debian's envvars exports before apache2 reads apache2.conf.
    env = {
      APACHE_RUN_DIR: join(base, 'run'), APACHE_PID_FILE: join(base, 'run/apache2.pid'), APACHE_LOCK_DIR: join(base, 'lock'),
      APACHE_LOG_DIR: join(base, 'log'), APACHE_RUN_USER: 'www-data', APACHE_RUN_GROUP: 'www-data',
    };
    for (const d of ['run', 'lock', 'log']) await mkdir(join(base, d));
    await files(base, {
      'apache2.conf': `DefaultRuntimeDir \${APACHE_RUN_DIR}
PidFile \${APACHE_PID_FILE}
User \${APACHE_RUN_USER}
Group \${APACHE_RUN_GROUP}
ErrorLog \${APACHE_LOG_DIR}/error.log
LogLevel warn
IncludeOptional mods-enabled/*.load
IncludeOptional mods-enabled/*.conf
Include ports.conf
IncludeOptional conf-enabled/*.conf
IncludeOptional sites-enabled/*.conf
`,
      // mod_mime's TypesConfig defaults to mime.types under ServerRoot.
      'mime.types': '',
      'ports.conf': `<IfModule ssl_module>\n\tListen 127.0.0.1:${port}\n</IfModule>\n`,
      'mods-enabled/mpm_event.conf': 'StartServers 1\nServerLimit 1\nThreadsPerChild 4\nMaxRequestWorkers 4\n',
      'sites-enabled/default-ssl.conf': `<IfModule mod_ssl.c>
\t<VirtualHost *:${port}>
\t\tServerName shop.example
\t\tServerAlias www.shop.example
\t\tSSLEngine on
\t\tSSLCertificateFile      ssl/shop.crt
\t\tSSLCertificateKeyFile   ssl/shop.key
\t\tSSLCertificateChainFile ssl/chain.crt
\t</VirtualHost>
\t<VirtualHost *:${port}>
\t\tServerName blog.example
\t\tSSLEngine on
\t\t# Certificate and key in one file: no SSLCertificateKeyFile.
\t\tSSLCertificateFile \\
\t\t\t${base}/ssl/blog.pem
\t</VirtualHost>
</IfModule>
`,
    });
    for (const mod of ['mpm_event.load', 'authz_core.load', 'mime.load', 'socache_shmcb.load', 'ssl.load', 'ssl.conf']) {
      await symlink(`/etc/apache2/mods-available/${mod}`, join(base, 'mods-enabled', mod));
    }
    await validateConfig('apache2', ['-t', '-d', base, '-f', join(base, 'apache2.conf')], env);
    ({ bindings } = await parseApache(join(base, 'apache2.conf')));
    await start('apache2', ['-d', base, '-f', join(base, 'apache2.conf'), '-DFOREGROUND'], port, env);
  }, 60_000);

  it('finds each virtual host\'s certificate, key, chain, names and address in a config apache2 -t accepts', async () => {
    const { problems } = await parseApache(join(base, 'apache2.conf'));
    expect(problems).toEqual([]);
    expect(bindings).toEqual([
      {
        service: 'apache', configPath: join(base, 'sites-enabled/default-ssl.conf'), line: 6,
        certificatePath: join(base, 'ssl/shop.crt'), keyPath: join(base, 'ssl/shop.key'), chainPath: join(base, 'ssl/chain.crt'),
        serverNames: ['shop.example', 'www.shop.example'], listen: [{ address: null, port }],
      },
      {
        service: 'apache', configPath: join(base, 'sites-enabled/default-ssl.conf'), line: 14,
        certificatePath: join(base, 'ssl/blog.pem'), keyPath: join(base, 'ssl/blog.pem'), chainPath: null,
        serverNames: ['blog.example'], listen: [{ address: null, port }],
      },
    ]);
  });

  it('is served, for every name of every virtual host, the certificate the binding names', async () => {
    expect(await expectServedAsBound(bindings)).toBe(3);
  });
});

describe('HAProxy', () => {
  let base: string;
  let ports: { crt: number; list: number };
  let bindings: ServiceBinding[];

  beforeAll(async () => {
    base = join(dir, 'haproxy');
    ports = { crt: await freePort(), list: await freePort() };
    await mkdir(join(base, 'certs/dir'), { recursive: true });
    opensslCertificate(join(base, 'certs'), 'shop', 'shop.example');
    opensslCertificate(join(base, 'certs/dir'), 'blog', 'blog.example');
    opensslCertificate(join(base, 'certs'), 'api', 'api.example');
    await combinedPem(join(base, 'certs'), 'shop', 'shop.pem');
    await combinedPem(join(base, 'certs'), 'api', 'api.pem');
    // HAProxy's convention for a certificate-only PEM: the key in "<file>.key".
    await rename(join(base, 'certs/dir/blog.key'), join(base, 'certs/dir/blog.crt.key'));
    await files(base, {
      'haproxy.cfg': `global
\tcrt-base ${base}/certs
defaults
\tmode http
\ttimeout connect 5s
\ttimeout client 30s
\ttimeout server 30s
frontend www
\tbind 127.0.0.1:${ports.crt},[::1]:${ports.crt} ssl crt shop.pem crt ${base}/certs/dir alpn http/1.1
\tbind 127.0.0.1:${ports.list} ssl crt-list ${base}/crt-list.txt
\tacl is_blog ssl_fc_sni -i blog.example
\tuse_backend blog if is_blog
\tuse_backend shop if { ssl_fc_sni -i shop.example } || { ssl_fc_sni -i www.shop.example }
\thttp-request return status 200 content-type text/plain string "www"
backend blog
\thttp-request return status 200 content-type text/plain string "blog"
backend shop
\thttp-request return status 200 content-type text/plain string "shop"
`,
      'crt-list.txt': '# certificate [options] [SNI filters]\napi.pem [alpn h2,http/1.1] api.example\nshop.pem shop.example\n',
    });
    await validateConfig('haproxy', ['-c', '-f', join(base, 'haproxy.cfg')]);
    ({ bindings } = await parseHaproxy(join(base, 'haproxy.cfg')));
    await start('haproxy', ['-f', join(base, 'haproxy.cfg'), '-db'], ports.list);
  }, 60_000);

  it('finds the certificates of crt files, crt directories and crt-lists in a config haproxy -c accepts', async () => {
    const { problems } = await parseHaproxy(join(base, 'haproxy.cfg'));
    expect(problems).toEqual([]);
    const crtListen = [{ address: '127.0.0.1', port: ports.crt }, { address: '::1', port: ports.crt }];
    const listListen = [{ address: '127.0.0.1', port: ports.list }];
    expect(bindings.map((b) => [b.configPath, b.line, b.certificatePath, b.keyPath, b.serverNames, b.listen])).toEqual([
      [join(base, 'haproxy.cfg'), 9, join(base, 'certs/shop.pem'), join(base, 'certs/shop.pem'), ['shop.example', 'www.shop.example'], crtListen],
      [join(base, 'haproxy.cfg'), 9, join(base, 'certs/dir/blog.crt'), join(base, 'certs/dir/blog.crt.key'), ['blog.example'], crtListen],
      // The first crt-list line is the bind's default certificate: it serves the routed names no line's SNI
      // filter claims, www.shop.example included, although shop.pem holds that name.
      [join(base, 'crt-list.txt'), 2, join(base, 'certs/api.pem'), join(base, 'certs/api.pem'), ['api.example', 'blog.example', 'www.shop.example'], listListen],
      [join(base, 'crt-list.txt'), 3, join(base, 'certs/shop.pem'), join(base, 'certs/shop.pem'), ['shop.example'], listListen],
    ]);
  });

  it('is served, for every name and address of every binding, the certificate the binding names', async () => {
    expect(await expectServedAsBound(bindings)).toBe(10);
  });
});
