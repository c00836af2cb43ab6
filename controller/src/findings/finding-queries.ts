// The findings the controller derives from the inventory, each one SQL query over current rows (removed
// locations, bindings and endpoints never count). A query returns one row per place — a file on a host
// or an endpoint seen by an agent — and findings.ts groups them per certificate.

export const FINDING_KINDS = [
  'expired', 'expiring', 'weak', 'self-signed-served', 'hostname-mismatch', 'incomplete-chain', 'drift', 'unused-on-disk',
  'locked-keystore',
] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

export interface FindingRow {
  certificate_id: string | null;
  agent_id: string;
  agent_name: string;
  path: string | null;
  host: string | null;
  port: number | null;
  server_name: string | null;
  detail: string;
}

// Places where a certificate is in use: its current file locations and the endpoints serving it.
const PLACES = `
  select l.certificate_id, l.agent_id, l.path, null::text as host, null::int as port, null::text as server_name
    from certificate_locations l where l.removed_at is null
  union all
  select e.leaf_certificate_id, e.agent_id, null, e.host, e.port, e.server_name
    from endpoints e where e.removed_at is null and e.ok and e.leaf_certificate_id is not null`;

const placeColumns = `p.certificate_id, p.agent_id, a.name as agent_name, p.path, p.host, p.port, nullif(p.server_name, '') as server_name`;

export const findingQueries: Record<FindingKind, string> = {
  expired: `
    select ${placeColumns}, 'expired ' || to_char(c.not_after at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI"Z"') as detail
    from (${PLACES}) p join certificates c on c.id = p.certificate_id join agents a on a.id = p.agent_id
    where c.not_after <= :now`,

  expiring: `
    select ${placeColumns}, 'expires ' || to_char(c.not_after at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI"Z"') as detail
    from (${PLACES}) p join certificates c on c.id = p.certificate_id join agents a on a.id = p.agent_id
    where c.not_after > :now and c.not_after <= :horizon`,

  weak: `
    select ${placeColumns}, concat_ws('; ',
        case when c.key_algorithm = 'RSA' and c.key_size < 2048 then 'RSA key of ' || c.key_size || ' bits' end,
        case when c.key_algorithm = 'DSA' and c.key_size <= 1024 then 'DSA key of ' || c.key_size || ' bits' end,
        case when c.signature_algorithm ~* '(sha1|md5|md2)' then 'signature ' || c.signature_algorithm end) as detail
    from (${PLACES}) p join certificates c on c.id = p.certificate_id join agents a on a.id = p.agent_id
    where not (c.is_ca and c.self_signed)
      and ((c.key_algorithm = 'RSA' and c.key_size < 2048) or (c.key_algorithm = 'DSA' and c.key_size <= 1024)
        or c.signature_algorithm ~* '(sha1|md5|md2)')`,

  'self-signed-served': `
    select e.leaf_certificate_id as certificate_id, e.agent_id, a.name as agent_name, null as path, e.host, e.port,
      nullif(e.server_name, '') as server_name, 'the server presents a self-signed certificate' as detail
    from endpoints e join certificates c on c.id = e.leaf_certificate_id join agents a on a.id = e.agent_id
    where e.removed_at is null and e.ok and c.self_signed`,

  'hostname-mismatch': `
    select e.leaf_certificate_id as certificate_id, e.agent_id, a.name as agent_name, null as path, e.host, e.port,
      nullif(e.server_name, '') as server_name, 'the certificate does not cover ' || e.server_name as detail
    from endpoints e join agents a on a.id = e.agent_id
    where e.removed_at is null and e.ok and e.name_mismatch`,

  'incomplete-chain': `
    select e.leaf_certificate_id as certificate_id, e.agent_id, a.name as agent_name, null as path, e.host, e.port,
      nullif(e.server_name, '') as server_name,
      'the served chain (' || jsonb_array_length(e.chain_fingerprints) || ' certificates) does not reach a known root' as detail
    from endpoints e join certificates c on c.id = e.leaf_certificate_id join agents a on a.id = e.agent_id
    where e.removed_at is null and e.ok and e.chain_complete = false and not c.self_signed`,

  // The file a server is configured with holds a newer certificate than the one it serves: not reloaded.
  drift: `
    select l.certificate_id, e.agent_id, a.name as agent_name, b.certificate_path as path, e.host, e.port,
      nullif(e.server_name, '') as server_name,
      b.service || ' serves ' || left(served.fingerprint_sha256, 16) || ' but ' || b.certificate_path || ' holds newer '
        || left(onDisk.fingerprint_sha256, 16) || ' (reload needed)' as detail
    from service_bindings b
    join certificate_locations l on l.agent_id = b.agent_id and l.path = b.certificate_path and l.position = 0 and l.removed_at is null
    join certificates onDisk on onDisk.id = l.certificate_id
    join endpoints e on e.agent_id = b.agent_id and e.removed_at is null and e.ok
      and b.listen @> jsonb_build_array(jsonb_build_object('port', e.port))
      and (e.server_name = '' or b.server_names ? e.server_name)
    join certificates served on served.id = e.leaf_certificate_id
    join agents a on a.id = b.agent_id
    where b.removed_at is null and served.id <> onDisk.id and onDisk.not_before > served.not_before
      and not onDisk.is_ca
      -- The file must be a renewal of what is served (a name in common): a no-SNI endpoint on a shared port
      -- serves the default server's certificate, which says nothing about the other servers' files.
      and (onDisk.subject = served.subject
        or exists (select 1 from jsonb_array_elements_text(served.sans) n where onDisk.sans @> jsonb_build_array(n)))`,

  'unused-on-disk': `
    select l.certificate_id, l.agent_id, a.name as agent_name, l.path, null as host, null::int as port, null as server_name,
      'no server configuration uses this file and no endpoint serves this certificate' as detail
    from certificate_locations l join certificates c on c.id = l.certificate_id join agents a on a.id = l.agent_id
    where l.removed_at is null and not c.is_ca
      and not exists (select 1 from service_bindings b where b.agent_id = l.agent_id and b.removed_at is null
        and (b.certificate_path = l.path or b.chain_path = l.path))
      and not exists (select 1 from endpoints e where e.leaf_certificate_id = l.certificate_id and e.removed_at is null and e.ok)`,

  'locked-keystore': `
    select null::uuid as certificate_id, k.agent_id, a.name as agent_name, k.path, null as host, null::int as port,
      null as server_name, k.kind || ' keystore that no configured password opens' as detail
    from keystores k join agents a on a.id = k.agent_id
    where k.removed_at is null and k.state = 'locked'`,
};
