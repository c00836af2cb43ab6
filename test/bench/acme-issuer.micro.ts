// A micro-benchmark of the ACME issuer alone, against a real Pebble and Postgres: N certificates driven the
// way the workflow drives them (select-ca: loadIssuer + health; issue: loadIssuer + agentHttp01 + prepare,
// the tokens served by an in-process http-01 responder, then loadIssuer + agentHttp01 + complete), C at
// once. Prints wall time, the controller-side CPU time per certificate, and how many TLS connections and
// SecureContexts were made per certificate (counted by wrapping tls.connect and tls.createSecureContext).
//   npx tsx test/bench/acme-issuer.micro.ts [N] [C]
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import tls from 'node:tls';
import { createSecretBox } from '../../controller/src/crypto/master-key.js';
import { KEY_TYPES } from '../../controller/src/db/entities/certificate-authority.js';
import { createOrm, migrate, poolSizeFor } from '../../controller/src/db/orm.js';
import { saveAcmeCa } from '../../controller/src/issuers/acme/acme-store.js';
import { loadIssuer } from '../../controller/src/issuers/issuer-registry.js';
import { isHealthChecked, isStaged, type IssueRequest } from '../../controller/src/issuers/issuer.js';
import { makeTestCsr } from '../support/csr.js';
import { startPebble } from '../support/pebble.js';
import { createTestDatabase } from '../support/postgres.js';

const n = Number(process.argv[2] ?? 100);
const concurrency = Number(process.argv[3] ?? 32);

let connections = 0;
let secureContexts = 0;
const realConnect = tls.connect;
const realCreateSecureContext = tls.createSecureContext;
(tls as { connect: unknown }).connect = (...args: unknown[]) => {
  connections++;
  return (realConnect as (...a: unknown[]) => tls.TLSSocket)(...args);
};
(tls as { createSecureContext: unknown }).createSecureContext = (...args: unknown[]) => {
  secureContexts++;
  return (realCreateSecureContext as (...a: unknown[]) => tls.SecureContext)(...args);
};

const [db, pebble] = await Promise.all([createTestDatabase(), startPebble()]);
// As the controller sizes its pool (poolSizeFor): a complete holds a connection while it orders.
const orm = await createOrm(db.url, { poolMax: poolSizeFor(concurrency) });
await orm.connect();
await migrate(orm);
const box = createSecretBox(randomBytes(32));
const tokens = new Map<string, string>();
const responder = createServer((req, res) => {
  const answer = tokens.get(req.url?.split('/').pop() ?? '');
  res.writeHead(answer ? 200 : 404).end(answer ?? '');
});
await new Promise<void>((resolve) => responder.listen(pebble.httpChallengePort, '127.0.0.1', resolve));

try {
  await saveAcmeCa(orm.em.fork(), box, {
    name: 'pebble',
    config: { directoryUrl: pebble.directoryUrl, trustPem: pebble.tlsTrustPem, maxConcurrentOrders: concurrency,
      challenge: { type: 'http-01', port: pebble.httpChallengePort, bindAddress: '127.0.0.1' } },
    policy: { allowedDomains: ['bench.test'], maxValidityDays: 90, keyTypes: [...KEY_TYPES] },
  });
  const load = () => loadIssuer(orm.em.fork(), box, 'pebble');
  // The account is registered outside the timing, as in the issuance benchmark (?check=true).
  const first = await load();
  if (isHealthChecked(first)) await first.health();
  const csrs = await Promise.all(Array.from({ length: n }, async (_, i) => {
    const name = `m${i}-${randomUUID().slice(0, 6)}.bench.test`;
    return { name, csrPem: (await makeTestCsr({ dnsNames: [name] })).csrPem };
  }));

  async function issueOne({ name, csrPem }: { name: string; csrPem: string }): Promise<void> {
    const req: IssueRequest = { csrPem, dnsNames: [name], idempotencyKey: randomUUID() };
    const selecting = await load();
    if (isHealthChecked(selecting) && !(await selecting.health()).healthy) throw new Error('unhealthy');
    const preparing = await load();
    if (!isStaged(preparing) || !(await preparing.agentHttp01())) throw new Error('not staged http-01');
    const { challenges } = await preparing.prepare(req);
    for (const c of challenges) tokens.set(c.token, c.keyAuthorization);
    const completing = await load();
    if (!isStaged(completing)) throw new Error('not staged');
    await completing.agentHttp01();
    const cert = await completing.complete(req);
    for (const c of challenges) tokens.delete(c.token);
    if (!cert.certificatePem.includes('BEGIN CERTIFICATE')) throw new Error('no certificate');
  }

  connections = 0;
  secureContexts = 0;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  let next = 0;
  let failed = 0;
  let firstError: string | undefined;
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, async () => {
    while (next < n) {
      const item = csrs[next++]!;
      await issueOne(item).catch((err: Error) => {
        failed++;
        firstError ??= err.message;
      });
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  console.log(JSON.stringify({
    n, concurrency, failed, firstError, seconds: +seconds.toFixed(2), perSecond: +((n - failed) / seconds).toFixed(1),
    cpuMsPerCertificate: +(cpuMs / n).toFixed(1), tlsConnectionsPerCertificate: +(connections / n).toFixed(2),
    secureContextsPerCertificate: +(secureContexts / n).toFixed(2),
  }));
} finally {
  responder.close();
  await orm.close();
  await Promise.all([db.drop(), pebble.stop()]);
}
process.exit(0);
