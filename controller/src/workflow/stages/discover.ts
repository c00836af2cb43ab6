// discover: decides where this run will deploy. Targets come from three places: the certificate's
// current locations as agents reported them (when the template deploys "from discovery"), the
// template's declared targets, and targets declared on the managed certificate itself.
import type { EntityManager } from '@mikro-orm/postgresql';
import type { DeclaredTargetRecord } from '../../db/entities/managed-certificate.js';
import type { StageHandler } from '../stage-handler.js';
import { PermanentStageError } from '../stage-handler.js';
import { pgArray } from '../../db/pg-array.js';

export interface RunTarget extends DeclaredTargetRecord {
  source: 'discovered' | 'template' | 'declared';
  /** Where it was found, for people reading the run. */
  describe: string;
}

export const discover: StageHandler = async (ctx) => {
  const { tx, managed, template } = ctx;
  const targets: RunTarget[] = [];
  if (template.deploy.fromDiscovery && managed.currentFingerprintSha256) {
    targets.push(...await discoveredTargets(tx, managed.currentFingerprintSha256));
  }
  for (const t of template.deploy.targets) targets.push({ ...t, source: 'template', describe: `${t.kind} on agent ${t.agentId}` });
  for (const t of managed.targets) targets.push({ ...t, source: 'declared', describe: `${t.kind} on agent ${t.agentId}` });
  const unique = dedupe(targets);
  if (unique.length === 0) {
    throw new PermanentStageError('no deployment target: the certificate has no current location on any agent, and neither the template nor the managed certificate declares a target');
  }
  const agentIds = [...new Set(unique.map((t) => t.agentId))];
  const agents = await tx.execute<{ id: string; name: string; revoked_at: string | null }[]>(
    'select id, name, revoked_at from agents where id = any(?::uuid[])', [pgArray(agentIds)]);
  for (const id of agentIds) {
    const agent = agents.find((a) => a.id === id);
    if (!agent) throw new PermanentStageError(`deployment target on unknown agent ${id}`);
    if (agent.revoked_at) throw new PermanentStageError(`deployment target on revoked agent ${agent.name} (${id})`);
  }
  return { type: 'done', output: { targets: unique, agents: agents.map((a) => ({ id: a.id, name: a.name })), currentFingerprintSha256: managed.currentFingerprintSha256 } };
};

/** Current locations of the certificate; a location a web server config points at deploys through that server. */
async function discoveredTargets(tx: EntityManager, fingerprint: string): Promise<RunTarget[]> {
  const rows = await tx.execute<{
    agent_id: string; path: string; key_path: string | null; format: string;
    service: string | null; config_path: string | null; binding_key_path: string | null; server_names: string[] | null; listen: { address: string | null; port: number }[] | null;
    bundle: boolean;
  }[]>(
    `select l.agent_id, l.path, l.key_path, l.format, b.service, b.config_path, b.key_path as binding_key_path, b.server_names, b.listen,
            exists (select 1 from certificate_locations o where o.agent_id = l.agent_id and o.path = l.path and o.position > 0 and o.removed_at is null) as bundle
       from certificates c
       join certificate_locations l on l.certificate_id = c.id and l.removed_at is null
       left join service_bindings b on b.agent_id = l.agent_id and b.certificate_path = l.path and b.removed_at is null
      where c.fingerprint_sha256 = ?
      order by l.agent_id, l.path`, [fingerprint]);
  const targets: RunTarget[] = [];
  for (const row of rows) {
    const keyPath = row.binding_key_path ?? row.key_path;
    const endpoints = (row.listen ?? []).map((l) => ({
      host: !l.address || l.address === '*' || l.address === '0.0.0.0' || l.address === '[::]' ? '127.0.0.1' : l.address.replace(/^\[|\]$/g, ''),
      port: l.port,
      ...(row.server_names?.[0] && !row.server_names[0].includes('*') && row.server_names[0] !== '_' ? { serverName: row.server_names[0] } : {}),
    }));
    if (row.service === 'nginx' && row.config_path && keyPath) {
      targets.push({ agentId: row.agent_id, kind: 'nginx', options: { configFile: row.config_path, certificatePath: row.path, keyPath }, endpoints, source: 'discovered', describe: `nginx ${row.config_path} (${row.path})` });
    } else if (row.format === 'pem' || row.format === 'der') {
      // A PEM file whose leaf is followed by more certificates is a full chain: it gets leaf + chain again.
      const path = row.bundle ? { fullChainPath: row.path } : { certificatePath: row.path };
      targets.push({
        agentId: row.agent_id, kind: 'file',
        options: { ...path, ...(keyPath ? { keyPath } : {}) },
        endpoints, source: 'discovered', describe: `file ${row.path}`,
      });
    }
  }
  return mergeFileTargets(targets);
}

/**
 * Files of one certificate that share a key on one host (cert.pem, fullchain.pem, key) become one file
 * target, so they are swapped together and the key is written once.
 */
function mergeFileTargets(targets: RunTarget[]): RunTarget[] {
  const merged: RunTarget[] = [];
  for (const target of targets) {
    const same = target.kind === 'file' && target.options.keyPath
      ? merged.find((m) => m.kind === 'file' && m.agentId === target.agentId && m.options.keyPath === target.options.keyPath
        && Object.keys(target.options).every((k) => k === 'keyPath' || !(k in m.options)))
      : undefined;
    if (same) {
      same.options = { ...same.options, ...target.options };
      same.describe = `${same.describe} + ${target.describe.replace(/^file /, '')}`;
      same.endpoints = [...(same.endpoints ?? []), ...(target.endpoints ?? [])];
    } else {
      merged.push({ ...target, options: { ...target.options } });
    }
  }
  return merged;
}

function dedupe(targets: RunTarget[]): RunTarget[] {
  const seen = new Set<string>();
  return targets.filter((t) => {
    const key = `${t.agentId}|${t.kind}|${JSON.stringify(t.options)}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
