// Service bindings for a snapshot: what nginx, Apache and HAProxy configs on this host say about which
// certificate files they use, for which names and ports. Converted to the contract's shape (empty
// strings where the parser says null).
import type { ScanProblem } from '../../../proto/generated/certflow/agent/v1/ScanProblem.js';
import type { ServiceBinding } from '../../../proto/generated/certflow/agent/v1/ServiceBinding.js';
import { discoverServiceBindings } from '../discovery/configs/index.js';

export interface ConfigSettings {
  nginx?: string[];
  apache?: string[];
  haproxy?: string[];
}

export async function collectServiceBindings(settings: ConfigSettings, signal?: AbortSignal): Promise<{ bindings: ServiceBinding[]; problems: ScanProblem[] }> {
  const found = await discoverServiceBindings({ ...settings, signal });
  return {
    bindings: found.bindings.map((b) => ({
      service: b.service,
      configPath: b.configPath,
      line: b.line,
      certificatePath: b.certificatePath,
      keyPath: b.keyPath ?? '',
      chainPath: b.chainPath ?? '',
      serverNames: b.serverNames,
      listen: b.listen.map((l) => ({ address: l.address ?? '', port: l.port })),
    })),
    problems: found.problems.map((p) => ({ path: p.path, message: p.message })),
  };
}
