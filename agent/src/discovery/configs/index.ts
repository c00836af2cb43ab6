// Discovery of the services that present certificates: nginx, Apache httpd and HAProxy, each from its main
// config. A service whose main config is absent is not installed, which is not a problem; a broken config
// never stops discovery, it comes back as problems next to whatever could still be read.
import { access } from 'node:fs/promises';
import { DEFAULT_APACHE_CONFIGS, parseApache } from './apache.js';
import type { ConfigReaderOptions } from './config-reader.js';
import { DEFAULT_HAPROXY_CONFIG, parseHaproxy } from './haproxy.js';
import { DEFAULT_NGINX_CONFIG, parseNginx } from './nginx.js';
import type { ConfigProblem, ServiceBinding, ServiceBindings } from './service-binding.js';

export type { ConfigProblem, ListenAddress, ServiceBinding, ServiceBindings, ServiceKind } from './service-binding.js';
export { parseApache } from './apache.js';
export { parseHaproxy } from './haproxy.js';
export { parseNginx } from './nginx.js';

export interface DiscoverServiceBindingsOptions extends ConfigReaderOptions {
  /** Main configs to read, each that exists; by default the distributions' usual locations. */
  nginx?: string[];
  apache?: string[];
  haproxy?: string[];
}

type Parser = (mainConfig: string, options: ConfigReaderOptions) => Promise<ServiceBindings>;

export async function discoverServiceBindings(options: DiscoverServiceBindingsOptions = {}): Promise<ServiceBindings> {
  const { signal, limits } = options;
  const services: [string[], Parser][] = [
    [options.nginx ?? [DEFAULT_NGINX_CONFIG], parseNginx],
    [options.apache ?? DEFAULT_APACHE_CONFIGS, parseApache],
    [options.haproxy ?? [DEFAULT_HAPROXY_CONFIG], parseHaproxy],
  ];
  const bindings: ServiceBinding[] = [];
  const problems: ConfigProblem[] = [];
  for (const [paths, parse] of services) {
    for (const path of paths) {
      if (!(await access(path).then(() => true, () => false))) continue;
      try {
        const result = await parse(path, { signal, limits });
        bindings.push(...result.bindings);
        problems.push(...result.problems);
      } catch (err) {
        // Aborting is the caller's decision, not a config problem. Anything else is a bug in a parser,
        // reported against the config that triggered it so the other services still come out.
        if (signal?.aborted) throw err;
        problems.push({ path, message: `could not be parsed: ${err instanceof Error ? err.message : String(err)}` });
      }
    }
  }
  return { bindings, problems };
}
