// Links Apache httpd's certificates to the virtual hosts that present them. Files are read in order, as
// httpd reads them: `Define` and `ServerRoot` take effect where they stand (relative Include and SSL paths
// resolve against ServerRoot), Include/IncludeOptional are followed inside whatever section holds them,
// and conditional sections (<IfModule>, <IfDefine>, …) count as applying, since which modules are loaded
// is decided by the same config. Settings outside <VirtualHost> apply to virtual hosts that set none.
import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseApacheConfig, type ApacheNode } from './apache-syntax.js';
import { fileExists, readCertificateFile } from './certificate-file.js';
import { ConfigReader, type ConfigReaderOptions } from './config-reader.js';
import { expandGlob, hasGlobMagic } from './glob.js';
import { parsePort, splitHostPort, type HostPort } from './host-port.js';
import { listFilesRecursively } from './list-files.js';
import { unique, uniqueListen, type ListenAddress, type ServiceBinding, type ServiceBindings } from './service-binding.js';

export const DEFAULT_APACHE_CONFIGS = ['/etc/apache2/apache2.conf', '/etc/httpd/conf/httpd.conf'];

interface Setting {
  /** Resolved against ServerRoot when read; null when it uses an undefined variable (reported). */
  path: string | null;
  file: string;
  line: number;
}

interface Scope {
  certificates: Setting[];
  keys: Setting[];
  chain: Setting | null;
  engine: boolean | null;
  serverName: string | null;
  aliases: string[];
}

interface VirtualHost extends Scope {
  file: string;
  line: number;
  addresses: HostPort[];
}

interface Walk {
  reader: ConfigReader;
  serverRoot: string;
  defines: Map<string, string>;
  global: Scope;
  virtualHosts: VirtualHost[];
  listens: ListenAddress[];
}

const newScope = (): Scope => ({ certificates: [], keys: [], chain: null, engine: null, serverName: null, aliases: [] });

export async function parseApache(mainConfig?: string, options: ConfigReaderOptions = {}): Promise<ServiceBindings> {
  const mainPath = resolve(mainConfig ?? (await firstExisting(DEFAULT_APACHE_CONFIGS)) ?? DEFAULT_APACHE_CONFIGS[0]);
  const reader = new ConfigReader(options);
  // Debian's apache2.conf sets no ServerRoot and relies on the compiled-in /etc/apache2, its own directory.
  const walk: Walk = { reader, serverRoot: dirname(mainPath), defines: new Map(), global: newScope(), virtualHosts: [], listens: [] };
  await readFile(mainPath, null, walk.global, walk);
  return { bindings: await bindingsOf(walk), problems: reader.problems };
}

async function firstExisting(paths: string[]): Promise<string | undefined> {
  for (const path of paths) if (await fileExists(path)) return path;
  return undefined;
}

async function readFile(path: string, origin: { path: string; line: number } | null, scope: Scope, walk: Walk): Promise<void> {
  await walk.reader.withFile(path, origin, async (text) => {
    const { nodes, errors } = parseApacheConfig(text);
    for (const error of errors) walk.reader.problem(path, error.line, error.message);
    await walkNodes(nodes, path, scope, walk);
  });
}

async function walkNodes(nodes: ApacheNode[], file: string, scope: Scope, walk: Walk): Promise<void> {
  for (const node of nodes) {
    const args = node.args.map((arg) => substitute(arg, walk.defines));
    const setting = (): Setting => ({ path: settingPath(args[0] ?? '', file, node.line, walk), file, line: node.line });
    if (node.children !== null) {
      if (node.name === 'virtualhost') {
        if (scope !== walk.global) {
          walk.reader.problem(file, node.line, '<VirtualHost> inside another section that cannot hold it');
          continue;
        }
        const virtualHost: VirtualHost = { ...newScope(), file, line: node.line, addresses: args.map(splitHostPort) };
        walk.virtualHosts.push(virtualHost);
        await walkNodes(node.children, file, virtualHost, walk);
      } else if (node.name !== 'macro') {
        // A <Macro> body applies only where it is `Use`d, with its parameters substituted.
        await walkNodes(node.children, file, scope, walk);
      }
      continue;
    }
    switch (node.name) {
      case 'include':
      case 'includeoptional':
        await include(args[0], node.name === 'includeoptional', { path: file, line: node.line }, scope, walk);
        break;
      case 'define':
        if (args[0] !== undefined) walk.defines.set(args[0], args[1] ?? '');
        break;
      case 'undefine':
        if (args[0] !== undefined) walk.defines.delete(args[0]);
        break;
      case 'serverroot':
        if (args[0] !== undefined) walk.serverRoot = resolve(args[0]);
        break;
      case 'listen':
        listen(args, file, node.line, walk);
        break;
      case 'servername':
        if (args[0] !== undefined) scope.serverName = hostOfServerName(args[0]);
        break;
      case 'serveralias':
        scope.aliases.push(...args);
        break;
      case 'sslcertificatefile':
        scope.certificates.push(setting());
        break;
      case 'sslcertificatekeyfile':
        scope.keys.push(setting());
        break;
      case 'sslcertificatechainfile':
        scope.chain = setting();
        break;
      case 'sslengine':
        scope.engine = args[0]?.toLowerCase() === 'on';
        break;
    }
  }
}

async function include(pathArg: string | undefined, optional: boolean, origin: { path: string; line: number }, scope: Scope, walk: Walk): Promise<void> {
  if (pathArg === undefined) {
    walk.reader.problem(origin.path, origin.line, 'Include without a path');
    return;
  }
  if (pathArg.includes('${')) {
    walk.reader.problem(origin.path, origin.line, `Include "${pathArg}": path uses a variable; not resolved`);
    return;
  }
  const pattern = resolve(walk.serverRoot, pathArg);
  let paths: string[];
  if (hasGlobMagic(pattern)) {
    paths = await expandGlob(pattern, walk.reader.signal);
    // httpd refuses a wildcard Include that matches nothing; IncludeOptional exists for that case.
    if (paths.length === 0 && !optional) walk.reader.problem(origin.path, origin.line, `Include "${pathArg}": no files match the wildcard`);
  } else {
    if (optional && !(await fileExists(pattern))) return;
    paths = [pattern];
  }
  for (const path of paths) {
    const isDirectory = await stat(path).then((s) => s.isDirectory(), () => false);
    // An included directory means every file below it, in order.
    const files = isDirectory ? await listFilesRecursively(path, walk.reader.signal) : [path];
    for (const file of files) await readFile(file, origin, scope, walk);
  }
}

function listen(args: string[], file: string, line: number, walk: Walk): void {
  const split = args[0] === undefined ? null : splitHostPort(args[0]);
  const port = split?.port == null ? null : parsePort(split.port);
  if (split === null || port === null) {
    walk.reader.problem(file, line, `Listen "${args[0] ?? ''}": no valid port`);
    return;
  }
  walk.listens.push({ address: split.address, port });
}

async function bindingsOf(walk: Walk): Promise<ServiceBinding[]> {
  const { global } = walk;
  const bindings: ServiceBinding[] = [];
  for (const host of walk.virtualHosts) {
    const engine = host.engine ?? global.engine;
    // mod_ssl also turns SSL on for a host that sets its own certificate without SSLEngine (https Listen).
    if (!(engine === true || (engine === null && host.certificates.length > 0))) continue;
    const inherits = host.certificates.length === 0;
    const certificates = inherits ? global.certificates : host.certificates;
    if (certificates.length === 0) {
      walk.reader.problem(host.file, host.line, 'VirtualHost uses SSL but no SSLCertificateFile applies to it');
      continue;
    }
    const names = [host.serverName ?? global.serverName, ...host.aliases].filter((n): n is string => n !== null);
    bindings.push(...(await certificateBindings({
      certificates,
      keys: host.keys.length > 0 || !inherits ? host.keys : global.keys,
      chain: host.chain ?? global.chain,
      serverNames: unique(names),
      listen: virtualHostListen(host, walk),
    }, walk)));
  }
  // The main server (outside every <VirtualHost>) serves TLS itself only with SSLEngine on at top level.
  if (global.engine === true && global.certificates.length > 0) {
    bindings.push(...(await certificateBindings({
      certificates: global.certificates,
      keys: global.keys,
      chain: global.chain,
      serverNames: global.serverName === null ? [] : [global.serverName],
      listen: uniqueListen(walk.listens),
    }, walk)));
  }
  return bindings;
}

interface HostSettings {
  certificates: Setting[];
  keys: Setting[];
  chain: Setting | null;
  serverNames: string[];
  listen: ListenAddress[];
}

async function certificateBindings(host: HostSettings, walk: Walk): Promise<ServiceBinding[]> {
  const bindings: ServiceBinding[] = [];
  // mod_ssl pairs certificates and keys by position (RSA and ECDSA side by side); a certificate without a
  // key file of its own must hold its key.
  for (const [index, certificate] of host.certificates.entries()) {
    if (certificate.path === null) continue;
    let keyPath = host.keys[index]?.path ?? null;
    if (host.keys[index] === undefined) {
      const facts = await readCertificateFile(certificate.path, walk.reader.signal);
      if ('error' in facts) walk.reader.problem(certificate.file, certificate.line, `"${certificate.path}": ${facts.error}`);
      else if (facts.holdsPrivateKey) keyPath = certificate.path;
    }
    bindings.push({
      service: 'apache',
      configPath: certificate.file,
      line: certificate.line,
      certificatePath: certificate.path,
      keyPath,
      chainPath: host.chain?.path ?? null,
      serverNames: host.serverNames,
      listen: host.listen,
    });
  }
  return bindings;
}

// "<VirtualHost *:443>" names its port; "<VirtualHost *>" or "*:*" matches every port httpd listens on.
function virtualHostListen(host: VirtualHost, walk: Walk): ListenAddress[] {
  const listen: ListenAddress[] = [];
  const listenPorts = unique(walk.listens.map((l) => l.port));
  for (const address of host.addresses) {
    if (address.port !== null && address.port !== '*') {
      const port = parsePort(address.port);
      if (port === null) walk.reader.problem(host.file, host.line, `VirtualHost address port "${address.port}" is not a port`);
      else listen.push({ address: address.address, port });
    } else if (listenPorts.length === 0) {
      walk.reader.problem(host.file, host.line, 'VirtualHost address has no port and no Listen directive gives one');
    } else {
      listen.push(...listenPorts.map((port) => ({ address: address.address, port })));
    }
  }
  return uniqueListen(listen);
}

// "${NAME}" as httpd expands it from Define; undefined names stay as written (httpd warns and keeps them).
function substitute(text: string, defines: Map<string, string>): string {
  return text.replace(/\$\{([A-Za-z0-9_.:-]+)\}/g, (whole, name: string) => defines.get(name) ?? whole);
}

function settingPath(value: string, file: string, line: number, walk: Walk): string | null {
  if (value === '') {
    walk.reader.problem(file, line, 'directive without a path');
    return null;
  }
  if (value.includes('${')) {
    walk.reader.problem(file, line, `"${value}": path uses a variable; not resolved`);
    return null;
  }
  return resolve(walk.serverRoot, value);
}

// ServerName may carry a scheme and a port ("https://www.example.com:443"); the name is the host part.
function hostOfServerName(value: string): string {
  const withoutScheme = value.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  return splitHostPort(withoutScheme).address ?? withoutScheme;
}
