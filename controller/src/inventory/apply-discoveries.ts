// Keystores, service bindings and endpoints arrive as whole lists (only when they changed). Applying one
// upserts every entry and marks the agent's other current entries removed: the controller's copy then
// mirrors the host, and removed rows keep the history.
import type { EntityManager } from '@mikro-orm/postgresql';
import { randomUUID, X509Certificate } from 'node:crypto';
import type { Keystore__Output } from '../../../proto/generated/certflow/agent/v1/Keystore.js';
import type { ServiceBinding__Output } from '../../../proto/generated/certflow/agent/v1/ServiceBinding.js';
import type { EndpointObservation__Output } from '../../../proto/generated/certflow/agent/v1/EndpointObservation.js';
import { parseCertificates, upsertCertificates } from './upsert-certificates.js';
import { chainIsComplete, nameIsCovered } from './endpoint-analysis.js';

const MAX_ENTRIES = 20_000;
const clip = (s: string, max = 4096) => s.slice(0, max);

async function markOthersRemoved(em: EntityManager, table: string, agentId: string, now: Date): Promise<number> {
  const result = await em.execute(
    `update ${table} set removed_at = ? where agent_id = ? and removed_at is null and last_seen_at < ?`, [now, agentId, now], 'run');
  return (result as { affectedRows?: number }).affectedRows ?? 0;
}

export async function applyKeystores(em: EntityManager, agentId: string, keystores: Keystore__Output[], now: Date): Promise<void> {
  for (const k of keystores.slice(0, MAX_ENTRIES)) {
    await em.execute(
      `insert into keystores (id, agent_id, path, kind, state, certificates, first_seen_at, last_seen_at, removed_at)
       values (?, ?, ?, ?, ?, ?, ?, ?, null)
       on conflict (agent_id, path) do update set kind = excluded.kind, state = excluded.state,
         certificates = excluded.certificates, last_seen_at = excluded.last_seen_at, removed_at = null`,
      [randomUUID(), agentId, clip(k.path), clip(k.kind, 32), clip(k.state, 32), k.certificates, now, now], 'run');
  }
  await markOthersRemoved(em, 'keystores', agentId, now);
}

export async function applyBindings(em: EntityManager, agentId: string, bindings: ServiceBinding__Output[], now: Date): Promise<void> {
  for (const b of bindings.slice(0, MAX_ENTRIES)) {
    await em.execute(
      `insert into service_bindings (id, agent_id, service, config_path, line, certificate_path, key_path, chain_path,
         server_names, listen, first_seen_at, last_seen_at, removed_at)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?::jsonb, ?, ?, null)
       on conflict (agent_id, service, config_path, line, certificate_path) do update set key_path = excluded.key_path,
         chain_path = excluded.chain_path, server_names = excluded.server_names, listen = excluded.listen,
         last_seen_at = excluded.last_seen_at, removed_at = null`,
      [randomUUID(), agentId, clip(b.service, 32), clip(b.configPath), b.line, clip(b.certificatePath), b.keyPath || null,
        b.chainPath || null, JSON.stringify(b.serverNames.slice(0, 500).map((n) => clip(n, 255))),
        JSON.stringify(b.listen.slice(0, 100).map((l) => ({ address: l.address || null, port: l.port }))), now, now],
      'run');
  }
  await markOthersRemoved(em, 'service_bindings', agentId, now);
}

/** Private roots known to the inventory: self-signed CA certificates seen anywhere in the fleet. */
async function inventoryRoots(em: EntityManager): Promise<X509Certificate[]> {
  const rows = await em.execute<{ der: Buffer }[]>(
    'select der from certificates where is_ca and self_signed limit 5000', [], 'all');
  return rows.map((r) => new X509Certificate(r.der));
}

export async function applyEndpoints(em: EntityManager, agentId: string, endpoints: EndpointObservation__Output[], now: Date): Promise<void> {
  const observations = endpoints.slice(0, MAX_ENTRIES);
  const chains = observations.map((e) => parseCertificates(e.chain.map((der) => ({ der: Buffer.from(der) }))).parsed);
  const ids = await upsertCertificates(em, chains.flat(), now);
  const roots = observations.some((e) => e.ok) ? await inventoryRoots(em) : [];
  for (const [i, e] of observations.entries()) {
    const chain = chains[i];
    const leaf = chain[0];
    const complete = e.ok && chain.length ? chainIsComplete(chain.map((c) => c.der), roots) : null;
    const mismatch = e.ok && leaf && e.serverName ? !nameIsCovered(e.serverName, leaf.facts.sans) : null;
    await em.execute(
      `insert into endpoints (id, agent_id, host, port, server_name, source, ok, leaf_certificate_id, chain_fingerprints,
         chain_complete, name_mismatch, protocol, error, first_seen_at, last_seen_at, removed_at)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?, ?, ?, ?, ?, null)
       on conflict (agent_id, host, port, server_name) do update set source = excluded.source, ok = excluded.ok,
         leaf_certificate_id = excluded.leaf_certificate_id, chain_fingerprints = excluded.chain_fingerprints,
         chain_complete = excluded.chain_complete, name_mismatch = excluded.name_mismatch, protocol = excluded.protocol,
         error = excluded.error, last_seen_at = excluded.last_seen_at, removed_at = null`,
      [randomUUID(), agentId, clip(e.host, 255), e.port, clip(e.serverName, 255), clip(e.source, 16), e.ok,
        leaf ? ids.get(leaf.facts.fingerprintSha256) ?? null : null, JSON.stringify(chain.map((c) => c.facts.fingerprintSha256)),
        complete, mismatch, e.protocol || null, e.ok ? null : clip(e.error || 'unknown error', 1000), now, now],
      'run');
  }
  await markOthersRemoved(em, 'endpoints', agentId, now);
}
