// The nginx, Apache and HAProxy config parsers on realistic trees written to a temp dir (Debian's layouts,
// with every absolute path pointing into the tree), their edge cases, and broken configs that must still
// yield everything else. `@D@` in a file stands for the tree's directory.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoverServiceBindings, parseApache, parseHaproxy, parseNginx } from '../../agent/src/discovery/configs/index.js';
import { privateKeyPem } from '../../proto/shared/x509.js';
import { makeCertificate } from '../support/certificates.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function tree(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'certflow-configs-'));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), content.replaceAll('@D@', dir));
  }
  return dir;
}

const all = { address: null, port: 443 };
const allV6 = { address: '::', port: 443 };

// PEM files HAProxy and Apache parsers open: combined (certificate + key) and certificate-only.
let shop: { cert: string; combined: string };
let blog: { cert: string; combined: string };
beforeAll(async () => {
  const make = async (name: string) => {
    const c = await makeCertificate({ commonName: name, dnsNames: [name, `www.${name}`] });
    return { cert: c.pem, combined: c.pem + (await privateKeyPem(c.keys.privateKey)) };
  };
  shop = await make('shop.example');
  blog = await make('blog.example');
});

describe('nginx', () => {
  it('links the certificates of a Debian-style tree to their servers, names and listen addresses', async () => {
    const dir = await tree({
      'nginx.conf': 'user www-data;\nevents { worker_connections 768; }\nhttp {\n  include mime.types;\n  ssl_protocols TLSv1.2 TLSv1.3;\n  include @D@/conf.d/*.conf;\n  include @D@/sites-enabled/*;\n}\n',
      'mime.types': 'types {\n  text/html html htm;\n}\n',
      'conf.d/.hidden.conf': 'this is not read;',
      'snippets/shop-tls.conf': 'ssl_certificate /etc/ssl/shop.crt;\nssl_certificate_key /etc/ssl/shop.key;\n',
      'sites-enabled/shop': [
        'server {', '  listen 80;', '  server_name shop.example;', '  return 301 https://$host$request_uri;', '}',
        'server {', '  listen 443 ssl http2;', '  listen [::]:443 ssl http2;', '  server_name shop.example www.shop.example;',
        '  include snippets/shop-tls.conf;', '  location / { root /var/www; }', '}', '',
      ].join('\n'),
    });
    const { bindings, problems } = await parseNginx(join(dir, 'nginx.conf'));
    expect(problems).toEqual([]);
    expect(bindings).toEqual([{
      service: 'nginx', configPath: join(dir, 'snippets/shop-tls.conf'), line: 1,
      certificatePath: '/etc/ssl/shop.crt', keyPath: '/etc/ssl/shop.key', chainPath: null,
      serverNames: ['shop.example', 'www.shop.example'], listen: [all, allV6],
    }]);
  });

  it('applies the http certificate to servers without their own, pairs RSA and ECDSA keys and reads every listen form', async () => {
    const dir = await tree({
      'nginx.conf': `http {
  ssl_certificate     default.crt;   # relative: against the conf prefix
  ssl_certificate_key default.key;
  server { listen *:443 ssl; listen unix:/run/nginx.sock ssl; server_name _ "" ~^www\\d+\\.example\\.net$; }
  server {
    listen 127.0.0.1:8443 ssl; listen [2001:db8::1]:443 ssl; listen localhost:9443 quic;
    server_name "api.example"   'v2.api.example';
    ssl_certificate /etc/ssl/api-rsa.crt;   ssl_certificate_key /etc/ssl/api-rsa.key;
    ssl_certificate /etc/ssl/api-ecdsa.crt; ssl_certificate_key /etc/ssl/api-ecdsa.key;
  }
  server { listen 80; server_name plain.example; }
}
stream { server { listen 8883 ssl; ssl_certificate /etc/ssl/mqtt.crt; ssl_certificate_key /etc/ssl/mqtt.key; } }
`,
    });
    const { bindings, problems } = await parseNginx(join(dir, 'nginx.conf'));
    expect(problems).toEqual([]);
    expect(bindings.map((b) => [b.certificatePath, b.keyPath, b.serverNames, b.listen, b.line])).toEqual([
      [join(dir, 'default.crt'), join(dir, 'default.key'), ['~^www\\d+\\.example\\.net$'], [all], 2],
      ['/etc/ssl/api-rsa.crt', '/etc/ssl/api-rsa.key', ['api.example', 'v2.api.example'], [
        { address: '127.0.0.1', port: 8443 }, { address: '2001:db8::1', port: 443 }, { address: 'localhost', port: 9443 },
      ], 8],
      ['/etc/ssl/api-ecdsa.crt', '/etc/ssl/api-ecdsa.key', ['api.example', 'v2.api.example'], expect.any(Array), 9],
      ['/etc/ssl/mqtt.crt', '/etc/ssl/mqtt.key', [], [{ address: null, port: 8883 }], 13],
    ]);
  });

  it('treats a server as TLS when another server put ssl on the same address and port', async () => {
    const dir = await tree({
      'nginx.conf': 'http {\n server { listen 443 ssl default_server; ssl_certificate a.crt; ssl_certificate_key a.key; }\n server { listen 443; server_name b.example; ssl_certificate b.crt; ssl_certificate_key b.key; }\n}\n',
    });
    const { bindings } = await parseNginx(join(dir, 'nginx.conf'));
    expect(bindings.map((b) => [b.certificatePath, b.listen])).toEqual([[join(dir, 'a.crt'), [all]], [join(dir, 'b.crt'), [all]]]);
  });

  it('reads quotes, escapes and comments as nginx does', async () => {
    const dir = await tree({
      'nginx.conf': 'http { server {\n  listen 443 ssl; # ssl_certificate /commented/out.crt;\n  server_name "a.example" c#d.example \'it\\\'s.example\';\n  ssl_certificate "/etc/ssl/with space/\\"quoted\\".crt";\n  ssl_certificate_key \'/etc/ssl/single;quoted.key\';\n} }\n',
    });
    const { bindings, problems } = await parseNginx(join(dir, 'nginx.conf'));
    expect(problems).toEqual([]);
    expect(bindings).toMatchObject([{
      certificatePath: '/etc/ssl/with space/"quoted".crt', keyPath: '/etc/ssl/single;quoted.key', line: 4,
      serverNames: ['a.example', 'c#d.example', "it's.example"],
    }]);
  });

  it('reports a certificate path with a variable instead of guessing it', async () => {
    const dir = await tree({
      'nginx.conf': 'http { server { listen 443 ssl;\n ssl_certificate /etc/ssl/$ssl_server_name.crt;\n ssl_certificate_key /etc/ssl/$ssl_server_name.key; } }\n',
    });
    const { bindings, problems } = await parseNginx(join(dir, 'nginx.conf'));
    expect(bindings).toEqual([]);
    expect(problems).toContainEqual({ path: join(dir, 'nginx.conf'), message: 'line 2: "/etc/ssl/$ssl_server_name.crt": path uses a variable; not resolved' });
  });

  it('still finds the good servers when other files have an extra brace, an open quote or a missing include', async () => {
    const dir = await tree({
      'nginx.conf': 'http {\n  include @D@/sites/*.conf;\n  include @D@/missing.conf;\n}\n',
      'sites/a-brace.conf': 'server { listen 443 ssl; ssl_certificate a.crt; ssl_certificate_key a.key; }\n}\n',
      'sites/b-quote.conf': 'server {\n  listen 443 ssl;\n  server_name "b.example;\n  ssl_certificate b.crt;\n}\n',
      'sites/c-good.conf': 'server { listen 8443 ssl; server_name c.example; ssl_certificate c.crt; ssl_certificate_key c.key; }\n',
    });
    const { bindings, problems } = await parseNginx(join(dir, 'nginx.conf'));
    expect(bindings.map((b) => b.certificatePath)).toEqual([join(dir, 'a.crt'), join(dir, 'c.crt')]);
    expect(problems).toEqual(expect.arrayContaining([
      { path: join(dir, 'sites/a-brace.conf'), message: 'line 2: unexpected "}"' },
      { path: join(dir, 'sites/b-quote.conf'), message: 'line 3: unterminated quoted string (unexpected end of file)' },
      { path: join(dir, 'nginx.conf'), message: `line 3: include "${join(dir, 'missing.conf')}": no such file or directory` },
    ]));
  });

  it('stops include cycles, includes nested too deep and too many files', async () => {
    const deep: Record<string, string> = { 'nginx.conf': 'include d0.conf;\ninclude a.conf;\n', 'a.conf': 'include b.conf;\n', 'b.conf': 'include a.conf;\n' };
    for (let i = 0; i < 20; i++) deep[`d${i}.conf`] = `include d${i + 1}.conf;\n`;
    deep['d20.conf'] = '';
    const dir = await tree(deep);
    const { problems } = await parseNginx(join(dir, 'nginx.conf'));
    expect(problems.map((p) => p.message)).toEqual(expect.arrayContaining([
      expect.stringMatching(/nested deeper than 16 levels/),
      expect.stringMatching(/include cycle: .*a\.conf -> .*b\.conf -> .*a\.conf/),
    ]));
    const limited = await parseNginx(join(dir, 'nginx.conf'), { limits: { maxFiles: 3 } });
    expect(limited.problems.map((p) => p.message)).toContainEqual(expect.stringMatching(/more than 3 config files/));
  });
});

describe('Apache', () => {
  it('links the certificates of a Debian-style tree to their virtual hosts', async () => {
    const dir = await tree({
      'apache2.conf': 'DefaultRuntimeDir ${APACHE_RUN_DIR}\nErrorLog ${APACHE_LOG_DIR}/error.log\nIncludeOptional mods-enabled/*.load\nIncludeOptional mods-enabled/*.conf\nInclude ports.conf\n<Directory /var/www/>\n\tAllowOverride None\n</Directory>\nIncludeOptional conf-enabled/*.conf\nIncludeOptional sites-enabled/*.conf\n',
      'mods-enabled/ssl.load': 'LoadModule ssl_module /usr/lib/apache2/modules/mod_ssl.so\n',
      'ports.conf': 'Listen 80\n<IfModule ssl_module>\n\tListen 443\n</IfModule>\n',
      'sites-enabled/000-default.conf': '<VirtualHost *:80>\n\tServerName shop.example\n</VirtualHost>\n',
      'sites-enabled/default-ssl.conf': `<IfModule mod_ssl.c>
\t<VirtualHost _default_:443 [::]:443>
\t\tServerName https://shop.example:443
\t\tServerAlias www.shop.example *.shop.example
\t\tSSLEngine on
\t\tSSLCertificateFile      /etc/ssl/certs/shop.pem
\t\tSSLCertificateKeyFile   /etc/ssl/private/shop.key
\t\tSSLCertificateChainFile /etc/ssl/certs/chain.pem
\t</VirtualHost>
</IfModule>
`,
    });
    const { bindings, problems } = await parseApache(join(dir, 'apache2.conf'));
    expect(problems).toEqual([]);
    expect(bindings).toEqual([{
      service: 'apache', configPath: join(dir, 'sites-enabled/default-ssl.conf'), line: 6,
      certificatePath: '/etc/ssl/certs/shop.pem', keyPath: '/etc/ssl/private/shop.key', chainPath: '/etc/ssl/certs/chain.pem',
      serverNames: ['shop.example', 'www.shop.example', '*.shop.example'], listen: [all, allV6],
    }]);
  });

  it('applies global SSL settings, Define variables, continued lines and Listen ports to virtual hosts', async () => {
    const dir = await tree({
      'httpd.conf': `ServerRoot "@D@"
Define CERTS /etc/pki/tls/certs
ServerName main.example
Listen 443 https
Listen [::1]:8443
SSLCertificateFile \${CERTS}/global.crt
SSLCertificateKeyFile \\
    /etc/pki/tls/private/global.key
<VirtualHost *>
  SSLEngine on
</VirtualHost>
<VirtualHost 192.0.2.10:443>
  ServerName blog.example
  SSLCertificateFile combined.pem
</VirtualHost>
<VirtualHost *:443>
  SSLEngine on
  SSLCertificateFile \${UNDEFINED}/x.crt
</VirtualHost>
`,
      'combined.pem': blog.combined,
    });
    const { bindings, problems } = await parseApache(join(dir, 'httpd.conf'));
    expect(bindings.map((b) => [b.certificatePath, b.keyPath, b.serverNames, b.listen])).toEqual([
      ['/etc/pki/tls/certs/global.crt', '/etc/pki/tls/private/global.key', ['main.example'], [all, { address: null, port: 8443 }]],
      [join(dir, 'combined.pem'), join(dir, 'combined.pem'), ['blog.example'], [{ address: '192.0.2.10', port: 443 }]],
    ]);
    expect(problems).toEqual([{ path: join(dir, 'httpd.conf'), message: 'line 18: "${UNDEFINED}/x.crt": path uses a variable; not resolved' }]);
  });

  it('still finds the good virtual hosts when a section is left open, one is closed twice or an Include is missing', async () => {
    const dir = await tree({
      'apache2.conf': 'Include sites/*.conf\nInclude missing.conf\nIncludeOptional optional/*.conf\nIncludeOptional optional.conf\n',
      'sites/a-open.conf': '<VirtualHost *:443>\n  SSLEngine on\n  SSLCertificateFile /a.crt\n  SSLCertificateKeyFile /a.key\n',
      'sites/b-extra.conf': '</IfModule>\n<VirtualHost *:8443>\nSSLEngine on\nSSLCertificateFile /b.crt\nSSLCertificateKeyFile /b.key\n</VirtualHost>\n',
    });
    const { bindings, problems } = await parseApache(join(dir, 'apache2.conf'));
    expect(bindings.map((b) => b.certificatePath)).toEqual(['/a.crt', '/b.crt']);
    expect(problems).toEqual([
      { path: join(dir, 'sites/a-open.conf'), message: 'line 1: <virtualhost> section is not closed (unexpected end of file)' },
      { path: join(dir, 'sites/b-extra.conf'), message: 'line 1: </ifmodule> without matching <ifmodule> section' },
      { path: join(dir, 'apache2.conf'), message: `line 2: include "${join(dir, 'missing.conf')}": no such file or directory` },
    ]);
  });
});

describe('HAProxy', () => {
  it('links crt files, crt directories and crt-list lines to the frontend, with SNI names from filters and ACLs', async () => {
    const dir = await tree({
      'haproxy.cfg': `global
\tcrt-base @D@/certs
defaults
\tmode http
frontend www
\tbind :443,[::]:443 ssl crt shop.pem crt @D@/dir/ alpn h2,http/1.1
\tbind 127.0.0.1:8443-8444 ssl crt-list @D@/list.txt
\tacl is_blog ssl_fc_sni -i blog.example
\tuse_backend shop if { ssl_fc_sni -i www.shop.example } || { ssl_fc_sni -m end .example }
\tuse_backend blog if is_blog
\tuse_backend other if { ssl_fc_sni other.example }
listen stats
\tbind unix@/run/haproxy/stats.sock
`,
      'certs/shop.pem': shop.combined,
      'dir/blog.crt': blog.cert,
      'dir/blog.crt.key': 'key',
      'dir/blog.crt.ocsp': 'ocsp',
      'dir/.hidden.pem': 'not loaded',
      'list.txt': '# certificate [options] [sni filters]\nshop.pem [alpn h2 ssl-min-ver TLSv1.2] shop.example !www.shop.example\n@D@/dir/blog.crt\n',
    });
    const { bindings, problems } = await parseHaproxy(join(dir, 'haproxy.cfg'));
    expect(problems).toEqual([]);
    const ports = [{ address: '127.0.0.1', port: 8443 }, { address: '127.0.0.1', port: 8444 }];
    expect(bindings.map((b) => [b.configPath, b.line, b.certificatePath, b.keyPath, b.serverNames, b.listen])).toEqual([
      [join(dir, 'haproxy.cfg'), 6, join(dir, 'certs/shop.pem'), join(dir, 'certs/shop.pem'), ['www.shop.example', 'other.example'], [all, allV6]],
      [join(dir, 'haproxy.cfg'), 6, join(dir, 'dir/blog.crt'), join(dir, 'dir/blog.crt.key'), ['blog.example'], [all, allV6]],
      // The first line is the bind's default certificate: names nothing else matches end up there, filters or not.
      [join(dir, 'list.txt'), 2, join(dir, 'certs/shop.pem'), join(dir, 'certs/shop.pem'), ['shop.example', 'www.shop.example', 'other.example'], ports],
      [join(dir, 'list.txt'), 3, join(dir, 'dir/blog.crt'), join(dir, 'dir/blog.crt.key'), ['blog.example'], ports],
    ]);
  });

  it('reports an unmatched quote and a missing certificate with their lines and keeps the other frontends', async () => {
    const dir = await tree({
      'haproxy.cfg': 'frontend a\n  bind :443 ssl crt "@D@/a.pem\nfrontend b\n  bind :8443 ssl crt @D@/missing.pem\nfrontend c\n  bind :9443 ssl crt @D@/c.pem\n',
      'c.pem': shop.cert,
    });
    const { bindings, problems } = await parseHaproxy(join(dir, 'haproxy.cfg'));
    expect(bindings.map((b) => [b.certificatePath, b.keyPath])).toEqual([[join(dir, 'c.pem'), null]]);
    expect(problems).toEqual([
      { path: join(dir, 'haproxy.cfg'), message: 'line 2: unmatched double quote' },
      { path: join(dir, 'haproxy.cfg'), message: `line 4: crt "${join(dir, 'missing.pem')}": no such file or directory` },
      { path: join(dir, 'haproxy.cfg'), message: `line 6: "${join(dir, 'c.pem')}" holds no private key and "${join(dir, 'c.pem')}.key" does not exist` },
    ]);
  });
});

describe('discoverServiceBindings', () => {
  it('skips services whose main config does not exist, without a problem', async () => {
    const result = await discoverServiceBindings({ nginx: ['/nonexistent/nginx.conf'], apache: ['/nonexistent/apache2.conf'], haproxy: ['/nonexistent/haproxy.cfg'] });
    expect(result).toEqual({ bindings: [], problems: [] });
  });

  it('reads every service it is given and turns an unreadable main config into a problem', async () => {
    const dir = await tree({
      'nginx/nginx.conf': 'http { server { listen 443 ssl; ssl_certificate n.crt; ssl_certificate_key n.key; } }\n',
      'apache2/apache2.conf': '<VirtualHost *:443>\nSSLEngine on\nSSLCertificateFile /a.crt\nSSLCertificateKeyFile /a.key\n</VirtualHost>\n',
      'haproxy/haproxy.cfg': 'frontend f\n bind :443 ssl crt @D@/h.pem\n',
      'h.pem': shop.combined,
    });
    const result = await discoverServiceBindings({
      nginx: [join(dir, 'nginx/nginx.conf'), join(dir, 'nginx')],
      apache: [join(dir, 'apache2/apache2.conf')],
      haproxy: [join(dir, 'haproxy/haproxy.cfg')],
    });
    expect(result.bindings.map((b) => [b.service, b.certificatePath])).toEqual([
      ['nginx', join(dir, 'nginx/n.crt')], ['apache', '/a.crt'], ['haproxy', join(dir, 'h.pem')],
    ]);
    expect(result.problems).toEqual([{ path: join(dir, 'nginx'), message: 'is a directory' }]);
  });
});
