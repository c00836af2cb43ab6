// The certificate inventory. Filtering, sorting and counting all happen in SQL with the same WHERE
// clause: notAfter is indexed for the expiring-soon view and sort, "has a current location" is an EXISTS
// on the certificate_id index, and a host filter starts from the agent_id index. The exact total is
// the costly part at a million certificates (a semi-join over every match, ~0.5 s).
import type { FastifyInstance } from 'fastify';
import type { Knex } from '@mikro-orm/postgresql';
import { requestEm, requirePermission } from '../auth.js';
import { timestampParser, type SqlTimestamp } from '../db-rows.js';
import { notFound, problemResponses } from '../problem.js';
import {
  certificateDetail, certificatePage, idParams, listCertificatesQuery,
  type CertificateSummary, type ListCertificatesQuery,
} from '../schemas.js';
import type { ZodTypeProvider } from '../zod-compiler.js';

const DAY_MS = 86_400_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface CertificateRow {
  id: string;
  fingerprint_sha256: string;
  subject: string;
  issuer: string;
  serial_number: string;
  sans: string[];
  not_before: SqlTimestamp;
  not_after: SqlTimestamp;
  key_algorithm: string;
  key_size: number | null;
  curve: string | null;
  signature_algorithm: string;
  self_signed: boolean;
  is_ca: boolean;
  first_seen_at: SqlTimestamp;
  last_seen_at: SqlTimestamp;
  location_count: number;
}

interface LocationRow {
  id: string;
  agent_id: string;
  agent_name: string;
  path: string;
  position: number;
  format: string;
  key_path: string | null;
  first_seen_at: SqlTimestamp;
  last_seen_at: SqlTimestamp;
  removed_at: SqlTimestamp | null;
}

interface UseRow {
  agent_id: string;
  agent_name: string;
  service: string;
  config_path: string;
  line: number;
  certificate_path: string;
  server_names: string[];
  listen: { address: string | null; port: number }[];
}

interface ServedRow {
  agent_id: string;
  agent_name: string;
  host: string;
  port: number;
  server_name: string;
  last_seen_at: SqlTimestamp;
}

/** Every column but the DER and the search text, which a list never needs. */
const SUMMARY_COLUMNS = ['id', 'fingerprint_sha256', 'subject', 'issuer', 'serial_number', 'sans', 'not_before',
  'not_after', 'key_algorithm', 'key_size', 'curve', 'signature_algorithm', 'self_signed', 'is_ca', 'first_seen_at',
  'last_seen_at'].map((column) => `c.${column}`);

/** LIKE treats % and _ as wildcards and \ as the escape: a search for "a_b" must match only "a_b". */
export function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
}

/**
 * The agents a `host` filter names: by name, hostname or id (several agents may share a hostname).
 * They are looked up first, on their own, so that the certificate query gets literal ids: with a
 * subquery instead, Postgres cannot estimate how few locations match and walks the whole notAfter
 * index (seconds at a million certificates instead of milliseconds).
 */
async function agentIdsFor(knex: Knex, host: string): Promise<string[]> {
  const agents = knex('agents as a').select('a.id').where('a.name', host).orWhereRaw("a.host_facts->>'hostname' = ?", [host]);
  if (UUID.test(host)) agents.orWhere('a.id', host);
  return ((await agents) as Array<{ id: string }>).map((row) => row.id);
}

function currentLocations(knex: Knex, agentIds: string[] | undefined): Knex.QueryBuilder {
  const locations = knex('certificate_locations as l').select(knex.raw('1'))
    .whereRaw('l.certificate_id = c.id').whereNull('l.removed_at');
  return agentIds === undefined ? locations : locations.whereIn('l.agent_id', agentIds);
}

/** The filtered certificates, unsorted and unpaged: the list and its count share it. */
function filteredCertificates(knex: Knex, query: ListCertificatesQuery, agentIds: string[] | undefined, now: number): Knex.QueryBuilder {
  const qb = knex('certificates as c');
  if (query.expiringWithinDays !== undefined) qb.where('c.not_after', '<', new Date(now + query.expiringWithinDays * DAY_MS));
  if (query.q) qb.whereRaw("c.search_text ilike ? escape '\\'", [likePattern(query.q.toLowerCase())]);
  // With a host, "on that host now" is the filter whatever includeRemoved says.
  if (agentIds !== undefined || !query.includeRemoved) qb.whereExists(currentLocations(knex, agentIds));
  return qb;
}

function locationCount(knex: Knex): Knex.Raw {
  return knex.raw('(select count(*)::int from certificate_locations l where l.certificate_id = c.id and l.removed_at is null) as location_count');
}

type ParseTimestamp = (value: SqlTimestamp) => Date;

function toSummary(row: CertificateRow, now: number, date: ParseTimestamp): CertificateSummary {
  const notAfter = date(row.not_after);
  return {
    id: row.id,
    fingerprintSha256: row.fingerprint_sha256,
    subject: row.subject,
    issuer: row.issuer,
    serialNumber: row.serial_number,
    sans: row.sans,
    notBefore: date(row.not_before).toISOString(),
    notAfter: notAfter.toISOString(),
    daysLeft: Math.floor((notAfter.getTime() - now) / DAY_MS),
    keyAlgorithm: row.key_algorithm,
    keySize: row.key_size,
    curve: row.curve,
    signatureAlgorithm: row.signature_algorithm,
    selfSigned: row.self_signed,
    isCa: row.is_ca,
    firstSeenAt: date(row.first_seen_at).toISOString(),
    lastSeenAt: date(row.last_seen_at).toISOString(),
    locationCount: row.location_count,
  };
}

export function derToPem(der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

export async function certificateRoutes(instance: FastifyInstance): Promise<void> {
  const app = instance.withTypeProvider<ZodTypeProvider>();

  app.get('/api/v1/certificates', {
    onRequest: requirePermission('read'),
    schema: {
      tags: ['certificates'],
      summary: 'List certificates, soonest expiry first',
      querystring: listCertificatesQuery,
      response: { 200: certificatePage, ...problemResponses(400, 401, 403) },
    },
  }, async (request) => {
    const query = request.query;
    const em = requestEm(request);
    const knex = em.getKnex();
    const now = Date.now();
    const agentIds = query.host === undefined ? undefined : await agentIdsFor(knex, query.host);
    if (agentIds?.length === 0) return { items: [], total: 0, limit: query.limit, offset: query.offset };
    const [rows, [{ count }]] = await Promise.all([
      filteredCertificates(knex, query, agentIds, now)
        .select(...SUMMARY_COLUMNS, locationCount(knex))
        .orderBy([{ column: 'c.not_after' }, { column: 'c.id' }])
        .limit(query.limit)
        .offset(query.offset) as Promise<CertificateRow[]>,
      filteredCertificates(knex, query, agentIds, now).count({ count: '*' }) as Promise<Array<{ count: string | number }>>,
    ]);
    return { items: rows.map((row) => toSummary(row, now, timestampParser(em))), total: Number(count), limit: query.limit, offset: query.offset };
  });

  app.get('/api/v1/certificates/:id', {
    onRequest: requirePermission('read'),
    schema: {
      tags: ['certificates'],
      summary: 'One certificate with its PEM and every place it was found',
      params: idParams,
      response: { 200: certificateDetail, ...problemResponses(400, 401, 403, 404) },
    },
  }, async (request) => {
    const { id } = request.params;
    const em = requestEm(request);
    const knex = em.getKnex();
    const date = timestampParser(em);
    const row = await knex('certificates as c').select(...SUMMARY_COLUMNS, 'c.der', locationCount(knex))
      .where('c.id', id).first() as (CertificateRow & { der: Buffer }) | undefined;
    if (!row) throw notFound(`no certificate with id ${id}`);
    const locations = await knex('certificate_locations as l')
      .join('agents as a', 'a.id', 'l.agent_id')
      .select('l.id', 'l.agent_id', 'a.name as agent_name', 'l.path', 'l.position', 'l.format', 'l.key_path', 'l.first_seen_at',
        'l.last_seen_at', 'l.removed_at')
      .where('l.certificate_id', id)
      // Current locations first, then those the agents no longer report.
      .orderByRaw('l.removed_at is not null, a.name, l.path, l.position') as LocationRow[];
    const usedBy = await knex('service_bindings as b')
      .join('agents as a', 'a.id', 'b.agent_id')
      .whereNull('b.removed_at')
      .whereExists(knex('certificate_locations as l').select(knex.raw('1'))
        .whereRaw('l.agent_id = b.agent_id and l.path = b.certificate_path and l.removed_at is null').where('l.certificate_id', id))
      .select('b.agent_id', 'a.name as agent_name', 'b.service', 'b.config_path', 'b.line', 'b.certificate_path', 'b.server_names', 'b.listen')
      .orderBy(['a.name', 'b.config_path', 'b.line']) as UseRow[];
    const servedAt = await knex('endpoints as e')
      .join('agents as a', 'a.id', 'e.agent_id')
      .where({ 'e.leaf_certificate_id': id, 'e.ok': true }).whereNull('e.removed_at')
      .select('e.agent_id', 'a.name as agent_name', 'e.host', 'e.port', 'e.server_name', 'e.last_seen_at')
      .orderBy(['a.name', 'e.host', 'e.port', 'e.server_name']) as ServedRow[];
    return {
      ...toSummary(row, Date.now(), date),
      pem: derToPem(row.der),
      locations: locations.map((l) => ({
        id: l.id,
        agentId: l.agent_id,
        agentName: l.agent_name,
        path: l.path,
        position: l.position,
        format: l.format,
        keyPath: l.key_path,
        firstSeenAt: date(l.first_seen_at).toISOString(),
        lastSeenAt: date(l.last_seen_at).toISOString(),
        removedAt: l.removed_at === null ? null : date(l.removed_at).toISOString(),
      })),
      usedBy: usedBy.map((b) => ({
        agentId: b.agent_id, agentName: b.agent_name, service: b.service, configPath: b.config_path, line: b.line,
        certificatePath: b.certificate_path, serverNames: b.server_names, listen: b.listen,
      })),
      servedAt: servedAt.map((e) => ({
        agentId: e.agent_id, agentName: e.agent_name, host: e.host, port: e.port, serverName: e.server_name || null,
        lastSeenAt: date(e.last_seen_at).toISOString(),
      })),
    };
  });
}
