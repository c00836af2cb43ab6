// What `certflow-agent scan --configs --endpoints` adds to a file scan: the server configs that use each
// file, and the certificates the host's listening sockets actually serve (one occurrence per certificate
// of each served chain, at a `tls://HOST:PORT` path). Both use the agent's own discovery code, with its
// default locations and limits.
import { certificateFacts } from '../../../proto/shared/certificate-facts.js';
import { discoverServiceBindings, type ServiceBinding } from '../discovery/configs/index.js';
import { probeLocalEndpoints } from '../discovery/endpoints/index.js';
import type { CertificateEvent } from '../discovery/file-scanner.js';
import { DEFAULT_EXCLUDED_PORTS } from '../config.js';
import { serverNamesByListenPort } from '../monitor/collect-endpoints.js';

const EXCLUDED_PORTS = new Set(DEFAULT_EXCLUDED_PORTS);

export interface ConfigUse {
  service: string;
  configPath: string;
  line: number;
  serverNames: string[];
  listen: string[];
}

export interface EndpointOccurrence extends Omit<CertificateEvent, 'format'> {
  format: 'tls';
  endpoint: { host: string; port: number; serverName: string | null };
}

export async function bindingsByFile(signal?: AbortSignal): Promise<{ uses: Map<string, ConfigUse[]>; bindings: ServiceBinding[]; problems: { path: string; message: string }[] }> {
  const { bindings, problems } = await discoverServiceBindings({ signal });
  const uses = new Map<string, ConfigUse[]>();
  for (const b of bindings) {
    const use = { service: b.service, configPath: b.configPath, line: b.line, serverNames: b.serverNames,
      listen: b.listen.map((l) => `${l.address === null ? '*' : l.address.includes(':') ? `[${l.address}]` : l.address}:${l.port}`) };
    for (const path of new Set([b.certificatePath, b.chainPath].filter((p): p is string => Boolean(p)))) {
      uses.set(path, [...(uses.get(path) ?? []), use]);
    }
  }
  return { uses, bindings, problems };
}

export async function servedCertificates(bindings: ServiceBinding[], signal?: AbortSignal): Promise<{ occurrences: EndpointOccurrence[]; problems: { path: string; message: string }[] }> {
  const serverNamesByPort = serverNamesByListenPort(bindings);
  const { results } = await probeLocalEndpoints({ serverNamesByPort, timeoutMs: 3000, signal, filter: (s) => !EXCLUDED_PORTS.has(s.port) });
  const occurrences: EndpointOccurrence[] = [];
  const problems: { path: string; message: string }[] = [];
  for (const result of results) {
    const host = result.host.includes(':') ? `[${result.host}]` : result.host;
    const path = `tls://${host}:${result.port}${result.serverName ? `?sni=${result.serverName}` : ''}`;
    if (!result.ok) {
      // Ports that are not TLS at all are not worth a line; a TLS server that fails the handshake is.
      if (result.error.startsWith('handshake failed')) problems.push({ path, message: result.error });
      continue;
    }
    result.chain.forEach((der, index) => {
      try {
        occurrences.push({
          type: 'certificate', path, index, format: 'tls', der, facts: certificateFacts(der), publicKeySha256: '', keyPath: null,
          endpoint: { host: result.host, port: result.port, serverName: result.serverName },
        });
      } catch (err) {
        problems.push({ path, message: `served certificate ${index}: ${(err as Error).message}` });
      }
    });
  }
  return { occurrences, problems };
}
