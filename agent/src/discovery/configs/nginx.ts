// Links nginx's certificates to the servers that present them. The config is parsed as nginx parses it
// (nginx-syntax.ts), includes are spliced in where they stand, then each `server` in `http`, `stream` and
// `mail` is read with the inheritance nginx applies: ssl_certificate and ssl_certificate_key set in the
// protocol block apply to servers that set none, and TLS is on for a server when a listen socket it uses
// has `ssl` (on any server: nginx decides TLS per address:port) or it sets `ssl on` or its own certificate.
import { dirname, resolve } from 'node:path';
import { ConfigReader, type ConfigReaderOptions, type IncludeOrigin } from './config-reader.js';
import { expandGlob, hasGlobMagic } from './glob.js';
import { parsePort, splitHostPort } from './host-port.js';
import { parseNginxConfig, type NginxDirective } from './nginx-syntax.js';
import { unique, uniqueListen, type ListenAddress, type ServiceBinding, type ServiceBindings } from './service-binding.js';

export const DEFAULT_NGINX_CONFIG = '/etc/nginx/nginx.conf';

interface Located extends NginxDirective {
  file: string;
  block: Located[] | null;
}

interface Setting {
  value: string;
  file: string;
  line: number;
}

interface Listen extends ListenAddress {
  tls: boolean;
}

interface Server {
  directive: Located;
  listens: Listen[];
  names: string[];
  certificates: Setting[];
  keys: Setting[];
  sslOn: boolean | null;
}

// Blocks whose `server`s can terminate TLS.
const PROTOCOL_BLOCKS = new Set(['http', 'stream', 'mail']);
// nginx listens on *:80 when a server has no listen directive (as root; 8000 otherwise).
const DEFAULT_LISTEN: Listen = { address: null, port: 80, tls: false };

export async function parseNginx(mainConfig = DEFAULT_NGINX_CONFIG, options: ConfigReaderOptions = {}): Promise<ServiceBindings> {
  const reader = new ConfigReader(options);
  const mainPath = resolve(mainConfig);
  // nginx resolves relative paths (includes, certificates) against its conf prefix, the main config's
  // directory, whichever file they are written in.
  const prefix = dirname(mainPath);
  const tree = await loadFile(mainPath, null, { reader, prefix });
  const bindings: ServiceBinding[] = [];
  for (const directive of tree) {
    if (PROTOCOL_BLOCKS.has(directive.name) && directive.block) {
      bindings.push(...protocolBindings(directive.block, { reader, prefix }));
    }
  }
  return { bindings, problems: reader.problems };
}

interface Context {
  reader: ConfigReader;
  prefix: string;
}

async function loadFile(path: string, origin: IncludeOrigin | null, context: Context): Promise<Located[]> {
  let directives: Located[] = [];
  await context.reader.withFile(path, origin, async (text) => {
    const parsed = parseNginxConfig(text);
    for (const error of parsed.errors) context.reader.problem(path, error.line, error.message);
    directives = await spliceIncludes(parsed.directives, path, context);
  });
  return directives;
}

// Includes are resolved while the including file is on the reader's include chain, so cycles are caught.
async function spliceIncludes(directives: NginxDirective[], file: string, context: Context): Promise<Located[]> {
  const out: Located[] = [];
  for (const directive of directives) {
    if (directive.name !== 'include' || directive.block !== null) {
      const block = directive.block && (await spliceIncludes(directive.block, file, context));
      out.push({ ...directive, file, block });
      continue;
    }
    if (directive.args.length !== 1) {
      context.reader.problem(file, directive.line, 'include takes exactly one path');
      continue;
    }
    const pattern = resolve(context.prefix, directive.args[0]);
    // nginx accepts a wildcard that matches nothing, but not a missing plain file.
    const paths = hasGlobMagic(pattern) ? await expandGlob(pattern, context.reader.signal) : [pattern];
    for (const path of paths) out.push(...(await loadFile(path, { path: file, line: directive.line }, context)));
  }
  return out;
}

function protocolBlockSettings(block: Located[]) {
  return {
    certificates: settings(block, 'ssl_certificate'),
    keys: settings(block, 'ssl_certificate_key'),
    sslOn: sslFlag(block),
  };
}

function protocolBindings(block: Located[], context: Context): ServiceBinding[] {
  const inherited = protocolBlockSettings(block);
  const servers = block.filter((d) => d.name === 'server' && d.block !== null).map((d) => readServer(d, context));
  const socketKey = (l: ListenAddress) => `${l.address ?? '*'}|${l.port}`;
  const tlsSockets = new Set(servers.flatMap((s) => s.listens.filter((l) => l.tls).map(socketKey)));
  const bindings: ServiceBinding[] = [];
  for (const server of servers) {
    const listens = server.listens.length > 0 ? server.listens : [DEFAULT_LISTEN];
    const tlsListens = listens.filter((l) => l.tls || tlsSockets.has(socketKey(l)));
    const sslOn = server.sslOn ?? inherited.sslOn ?? false;
    if (tlsListens.length === 0 && !sslOn && server.certificates.length === 0) continue;
    const certificates = server.certificates.length > 0 ? server.certificates : inherited.certificates;
    const keys = server.keys.length > 0 ? server.keys : inherited.keys;
    if (certificates.length === 0) {
      context.reader.problem(server.directive.file, server.directive.line, 'server uses TLS but no "ssl_certificate" applies to it');
      continue;
    }
    const listen = uniqueListen((tlsListens.length > 0 ? tlsListens : listens).map(({ address, port }) => ({ address, port })));
    // One server may hold several certificates (RSA and ECDSA); nginx pairs them with keys by position.
    certificates.forEach((certificate, index) => {
      const certificatePath = filePath(certificate, context);
      if (certificatePath === null) return;
      const key = keys[index];
      if (key === undefined) {
        context.reader.problem(certificate.file, certificate.line, `no "ssl_certificate_key" for ssl_certificate "${certificate.value}"`);
      }
      bindings.push({
        service: 'nginx',
        configPath: certificate.file,
        line: certificate.line,
        certificatePath,
        keyPath: key === undefined || key.value.startsWith('engine:') ? null : filePath(key, context),
        chainPath: null,
        serverNames: server.names,
        listen,
      });
    });
  }
  return bindings;
}

function readServer(directive: Located, context: Context): Server {
  const block = directive.block ?? [];
  const listens: Listen[] = [];
  for (const listen of block.filter((d) => d.name === 'listen')) {
    const parsed = parseListen(listen, context);
    if (parsed) listens.push(parsed);
  }
  const names = block
    .filter((d) => d.name === 'server_name')
    .flatMap((d) => d.args)
    // "_" and "" are nginx's catch-all conventions, not names a certificate must cover.
    .filter((name) => name !== '_' && name !== '');
  return { directive, listens, names: unique(names), ...protocolBlockSettings(block) };
}

function parseListen(directive: Located, context: Context): Listen | null {
  const [address, ...parameters] = directive.args;
  if (address === undefined) {
    context.reader.problem(directive.file, directive.line, 'listen without an address');
    return null;
  }
  if (address.startsWith('unix:')) return null;
  const split = splitHostPort(address);
  const port = split.port === null ? 80 : parsePort(split.port);
  if (port === null) {
    context.reader.problem(directive.file, directive.line, `invalid port in listen "${address}"`);
    return null;
  }
  // `quic` (HTTP/3) is TLS too, with the same certificates.
  return { address: split.address, port, tls: parameters.includes('ssl') || parameters.includes('quic') };
}

function settings(block: Located[], name: string): Setting[] {
  return block
    .filter((d) => d.name === name && d.args.length > 0)
    .map((d) => ({ value: d.args[0], file: d.file, line: d.line }));
}

// The legacy `ssl on;` (removed in nginx 1.25.1): the last one in a block wins, as nginx reads it.
function sslFlag(block: Located[]): boolean | null {
  const last = block.filter((d) => d.name === 'ssl').pop();
  return last === undefined ? null : last.args[0] === 'on';
}

function filePath(setting: Setting, context: Context): string | null {
  if (setting.value.includes('$')) {
    context.reader.problem(setting.file, setting.line, `"${setting.value}": path uses a variable; not resolved`);
    return null;
  }
  if (setting.value.startsWith('data:')) {
    context.reader.problem(setting.file, setting.line, 'PEM given inline ("data:"); no file to link');
    return null;
  }
  return resolve(context.prefix, setting.value);
}
