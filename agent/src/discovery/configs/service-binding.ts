// What discovery learns from web server configs: which certificate file a server presents, for which names
// and on which addresses. Renewal and deployment need this link: a certificate found on disk is only
// useful to replace if we know which service to reload and which names it must still cover.

export type ServiceKind = 'nginx' | 'apache' | 'haproxy';

export interface ListenAddress {
  /** null = all addresses; IPv6 addresses without brackets ("::", "2001:db8::1"). */
  address: string | null;
  port: number;
}

export interface ServiceBinding {
  service: ServiceKind;
  /** The config file and line that name the certificate file (where an operator would change it). */
  configPath: string;
  line: number;
  certificatePath: string;
  /** null when the config names no key file and the certificate file holds no key. */
  keyPath: string | null;
  /** Only a separately configured chain file (Apache's SSLCertificateChainFile); chains inside the
   * certificate file itself are not repeated here. */
  chainPath: string | null;
  serverNames: string[];
  listen: ListenAddress[];
}

export interface ConfigProblem {
  path: string;
  message: string;
}

export interface ServiceBindings {
  bindings: ServiceBinding[];
  problems: ConfigProblem[];
}

/** What a config tokenizer reports about one file, before it becomes a ConfigProblem naming the file. */
export interface LineError {
  line: number;
  message: string;
}

/** A problem at a line of a config file; the line goes in the message so the shape stays { path, message }. */
export function problemAt(path: string, line: number, message: string): ConfigProblem {
  return { path, message: `line ${line}: ${message}` };
}

/** Keeps the first occurrence of each value, in order. */
export function unique<T>(values: T[], key: (value: T) => string = String): T[] {
  const seen = new Set<string>();
  return values.filter((value) => {
    const k = key(value);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export function uniqueListen(listen: ListenAddress[]): ListenAddress[] {
  return unique(listen, (l) => `${l.address ?? '*'}|${l.port}`);
}
