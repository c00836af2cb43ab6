// Links HAProxy's certificates to the frontends that present them: every `bind … ssl` line in a `frontend`
// or `listen` section, with its addresses, the certificates its `crt` and `crt-list` arguments load, and
// the SNI names the section routes on (best effort, haproxy-sni.ts).
import { dirname, resolve } from 'node:path';
import { ConfigReader, type ConfigReaderOptions } from './config-reader.js';
import { loadCrt, loadCrtList, type CertificateEntry, type CrtContext } from './haproxy-certificates.js';
import { assignRoutedNames, routedSniNames } from './haproxy-sni.js';
import { parseHaproxyConfig, type HaproxyLine, type HaproxyWord } from './haproxy-syntax.js';
import { parsePort, splitHostPort } from './host-port.js';
import { uniqueListen, type ListenAddress, type ServiceBinding, type ServiceBindings } from './service-binding.js';

export const DEFAULT_HAPROXY_CONFIG = '/etc/haproxy/haproxy.cfg';

// Address families that are network sockets; unix@, abns@, fd@ and sockpair@ carry no certificate names.
const NETWORK_PREFIXES = new Set(['ipv4', 'ipv6', 'tcp', 'tcp4', 'tcp6', 'udp', 'udp4', 'udp6', 'quic4', 'quic6']);
// A port range ("8443-8450") listens on each port; a wider one is almost surely a mistake, so it is capped.
const MAX_PORTS_PER_RANGE = 64;

export async function parseHaproxy(mainConfig = DEFAULT_HAPROXY_CONFIG, options: ConfigReaderOptions = {}): Promise<ServiceBindings> {
  const reader = new ConfigReader(options);
  const mainPath = resolve(mainConfig);
  const bindings: ServiceBinding[] = [];
  await reader.withFile(mainPath, null, async (text) => {
    const { sections, errors } = parseHaproxyConfig(text);
    for (const error of errors) reader.problem(mainPath, error.line, error.message);
    let crtBase: string | null = null;
    for (const section of sections) {
      if (section.kind === 'global') {
        const base = section.lines.filter((l) => l.words[0].value === 'crt-base').pop();
        if (base?.words[1] !== undefined) crtBase = resolve(dirname(mainPath), base.words[1].value);
      }
      if (section.kind !== 'frontend' && section.kind !== 'listen') continue;
      // Routing rules may come before or after the bind lines; the whole section counts.
      const routedNames = routedSniNames(section.lines);
      for (const line of section.lines.filter((l) => l.words[0].value === 'bind')) {
        const entries = await bindEntries(line, { reader, crtBase, configDir: dirname(mainPath), listen: [] }, mainPath);
        assignRoutedNames(routedNames, entries, line.words.some((w) => w.value === 'strict-sni'));
        bindings.push(...entries.map((entry) => entry.binding));
      }
    }
  });
  return { bindings, problems: reader.problems };
}

async function bindEntries(line: HaproxyLine, context: CrtContext, file: string): Promise<CertificateEntry[]> {
  const [, addressList, ...parameters] = line.words;
  const origin = { path: file, line: line.line };
  if (addressList === undefined) {
    context.reader.problem(file, line.line, 'bind without an address');
    return [];
  }
  const { listen, quic } = parseAddresses(addressList, origin, context);
  const words = parameters.map((w) => w.value);
  if (!(words.includes('ssl') || quic) || listen.length === 0) return [];
  const entries: CertificateEntry[] = [];
  let namesCertificates = false;
  const withListen = { ...context, listen };
  for (let i = 0; i < parameters.length; i++) {
    const keyword = parameters[i].value;
    const argument: HaproxyWord | undefined = parameters[i + 1];
    if (keyword === 'crt' || keyword === 'default-crt' || keyword === 'crt-list') namesCertificates = true;
    if ((keyword === 'crt' || keyword === 'default-crt' || keyword === 'crt-list') && argument === undefined) {
      context.reader.problem(file, line.line, `"${keyword}" without a path`);
    } else if (keyword === 'crt' || keyword === 'default-crt') {
      entries.push(...(await loadCrt(argument, origin, withListen)));
      i++;
    } else if (keyword === 'crt-list') {
      entries.push(...(await loadCrtList(argument, origin, withListen)));
      i++;
    }
  }
  if (!namesCertificates) context.reader.problem(file, line.line, 'bind uses ssl but names no certificate (crt or crt-list)');
  return entries;
}

function parseAddresses(word: HaproxyWord, origin: { path: string; line: number }, context: CrtContext): { listen: ListenAddress[]; quic: boolean } {
  const listen: ListenAddress[] = [];
  let quic = false;
  if (word.usesVariable) {
    context.reader.problem(origin.path, origin.line, `bind "${word.value}": address uses a variable; not resolved`);
    return { listen, quic };
  }
  for (const item of word.value.split(',')) {
    const at = item.indexOf('@');
    const family = at === -1 ? null : item.slice(0, at);
    const rest = at === -1 ? item : item.slice(at + 1);
    if ((family !== null && !NETWORK_PREFIXES.has(family)) || rest.startsWith('/')) continue;
    if (family?.startsWith('quic')) quic = true;
    const split = splitHostPort(rest);
    const ports = split.port === null ? null : portRange(split.port);
    if (ports === null) {
      context.reader.problem(origin.path, origin.line, `bind "${item}": no valid port`);
      continue;
    }
    // "ipv6@:443" means every IPv6 address, which is "::", not every address.
    const address = split.address ?? (family === 'ipv6' || family === 'tcp6' || family === 'quic6' ? '::' : null);
    listen.push(...ports.map((port) => ({ address, port })));
  }
  return { listen: uniqueListen(listen), quic };
}

function portRange(text: string): number[] | null {
  const [first, last = first] = text.split('-');
  const from = parsePort(first);
  const to = parsePort(last);
  if (from === null || to === null || to < from) return null;
  return Array.from({ length: Math.min(to - from + 1, MAX_PORTS_PER_RANGE) }, (_, i) => from + i);
}
