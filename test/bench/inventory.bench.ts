// Inventory ingestion: how long the controller takes to apply an agent's full report (parse every DER,
// upsert certificates and locations, mark what disappeared), for a first report and for an unchanged
// re-report, and the throughput in certificates per second. Real Postgres (a scratch database).
import { createTestDatabase } from '../support/postgres.js';
import { makeCertificate, days } from '../support/certificates.js';
import { createOrm, migrate } from '../../controller/src/db/orm.js';
import { applyInventory, type ReportedOccurrence } from '../../controller/src/inventory/apply-inventory.js';

const CERTIFICATES = Number(process.env.BENCH_CERTIFICATES ?? 2000);
const AGENTS = Number(process.env.BENCH_AGENTS ?? 4);

const db = await createTestDatabase();
const orm = await createOrm(db.url);
try {
  await orm.connect();
  await migrate(orm);
  let started = performance.now();
  const ders: Buffer[] = [];
  // Leaves issued by a CA, as on real hosts (a self-signed one costs an extra signature check).
  const ca = await makeCertificate({ commonName: 'Bench Root', isCa: true, notAfter: days(3650) });
  for (let i = 0; i < CERTIFICATES; i++) {
    ders.push((await makeCertificate({ commonName: `host${i}.bench.test`, dnsNames: [`host${i}.bench.test`], notAfter: days(10 + (i % 400)), issuer: ca })).der);
  }
  console.log(`made ${CERTIFICATES} certificates in ${Math.round(performance.now() - started)} ms`);

  const conn = orm.em.getConnection();
  const agentIds: string[] = [];
  for (let a = 0; a < AGENTS; a++) {
    const [{ id }] = await conn.execute<{ id: string }[]>(
      `insert into agents (id, name, host_facts, certificate_serial, certificate_not_after, enrolled_at, enrolled_with_token_id, scan_problems)
       values (gen_random_uuid(), ?, '{}', '01', now(), now(), 'bench', '[]') returning id`, [`bench-agent-${a}`]);
    agentIds.push(id);
  }
  const report = (offset: number): ReportedOccurrence[] =>
    ders.map((der, i) => ({ path: `/etc/ssl/bench/${(i + offset) % CERTIFICATES}.pem`, index: 0, format: 'pem', der }));

  const figures: string[] = [];
  const measure = async (label: string, agentId: string, occurrences: ReportedOccurrence[]) => {
    started = performance.now();
    const result = await applyInventory(orm.em.fork(), agentId, { full: true, occurrences, problems: [] });
    const ms = performance.now() - started;
    figures.push(`${label.padEnd(44)} ${String(Math.round(ms)).padStart(6)} ms  ${String(Math.round(occurrences.length / (ms / 1000))).padStart(7)} certificates/s  (removed ${result.removed})`);
  };
  await measure(`first full report, ${CERTIFICATES} certificates`, agentIds[0], report(0));
  await measure('same report again (nothing changed)', agentIds[0], report(0));
  await measure('report with every file moved', agentIds[0], report(1));
  for (let a = 1; a < AGENTS; a++) await measure(`agent ${a + 1}: same certificates, new agent`, agentIds[a], report(0));
  console.log(figures.join('\n'));
} finally {
  await orm.close();
  await db.drop();
}
