// ARI for managed certificates: the poller asks the issuing CA for the certificate's renewal window (a
// small stub ACME server, since Pebble 2.4 has none), moves the renewal time into it, and asks again at
// the CA's Retry-After; a CA without ARI (the built-in CA) clears the schedule.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretBox, type SecretBox } from '../../controller/src/crypto/master-key.js';
import { createOrm, migrate, type Orm } from '../../controller/src/db/orm.js';
import { saveAcmeCa } from '../../controller/src/issuers/acme/acme-store.js';
import { loadIssuer } from '../../controller/src/issuers/issuer-registry.js';
import { ensureBuiltinCa } from '../../controller/src/issuers/internal/internal-ca-store.js';
import { createLogger } from '../../controller/src/log.js';
import { AriPoller } from '../../controller/src/scheduler/ari-poller.js';
import { makePki, issueLeaf } from '../support/deploy-pki.js';
import { freePort } from '../support/free-port.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

let db: TestDatabase;
let orm: Orm;
let box: SecretBox;
let server: Server;
let dir: string;
let leafPem: string;
const asked: string[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  orm = await createOrm(db.url);
  await orm.connect();
  await migrate(orm);
  box = createSecretBox(randomBytes(32));
  await ensureBuiltinCa(orm.em.fork(), box);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  server = createServer((req, res) => {
    if (req.url === '/dir') {
      res.setHeader('content-type', 'application/json');
      return res.end(JSON.stringify({ newNonce: `${base}/n`, newAccount: `${base}/a`, newOrder: `${base}/o`, renewalInfo: `${base}/renewal-info` }));
    }
    asked.push(req.url!);
    res.writeHead(200, { 'content-type': 'application/json', 'retry-after': '7200' })
      .end(JSON.stringify({ suggestedWindow: { start: '2030-01-01T00:00:00Z', end: '2030-01-02T00:00:00Z' } }));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  await saveAcmeCa(orm.em.fork(), box, {
    name: 'ari-ca', policy: { allowedDomains: [], maxValidityDays: 3650, keyTypes: ['ecdsa-p256', 'ecdsa-p384', 'rsa-2048', 'rsa-3072', 'rsa-4096'] },
    config: { directoryUrl: `${base}/dir`, challenge: { type: 'dns-01', provider: { kind: 'exec', command: ['true'] } } } as never,
  });
  dir = await mkdtemp(join(tmpdir(), 'certflow-ari-'));
  leafPem = (await issueLeaf(await makePki(dir), ['ari.example'], { days: 3000 })).certificatePem;
}, 60_000);

afterAll(async () => {
  server?.close();
  await orm?.close();
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function managedIssuedBy(ca: string): Promise<string> {
  const id = randomUUID();
  const [template] = await orm.em.fork().execute<{ id: string }[]>(`select id from templates where name = 'default'`);
  await orm.em.fork().execute(`insert into managed_certificates (id, name, template_id, dns_names, ip_addresses, labels, targets, state, adopted_by,
      current_fingerprint_sha256, current_not_before, current_not_after, renew_after, renewal_computed_with_version, consecutive_failures,
      current_ca, current_certificate_pem, ari_next_check_at, created_at, updated_at)
    values (?, ?, ?, '["ari.example"]'::jsonb, '[]'::jsonb, '{}'::jsonb, '[]'::jsonb, 'active', 'test', 'ab', now() - interval '1 day',
      now() + interval '3000 days', now() + interval '2970 days', 1, 0, ?, ?, now(), now(), now())`, [id, `ari-${id.slice(0, 8)}`, template!.id, ca, leafPem]);
  return id;
}

const row = async (id: string) => (await orm.em.fork().execute<{ renew_after: Date; ari_window_start: Date | null; ari_window_end: Date | null; ari_next_check_at: Date | null }[]>(
  'select renew_after, ari_window_start, ari_window_end, ari_next_check_at from managed_certificates where id = ?', [id]))[0]!;

describe('ARI poller', () => {
  it('moves the renewal into the CA\'s window and asks again at its Retry-After', async () => {
    const id = await managedIssuedBy('ari-ca');
    const poller = new AriPoller(orm, createLogger('silent'), { intervalMs: 1000, loadIssuer: (em, name) => loadIssuer(em, box, name) });
    expect(await poller.poll()).toBe(1);
    expect(asked.at(-1)).toMatch(/^\/renewal-info\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    const after = await row(id);
    expect(new Date(after.ari_window_start!).toISOString()).toBe('2030-01-01T00:00:00.000Z');
    const renewAt = new Date(after.renew_after).getTime();
    // Earlier than 30 days before expiry (year 2034), inside the window less at most the 60-minute jitter.
    expect(renewAt).toBeGreaterThanOrEqual(Date.parse('2030-01-01T00:00:00Z') - 60 * 60_000);
    expect(renewAt).toBeLessThanOrEqual(Date.parse('2030-01-02T00:00:00Z'));
    expect(Math.abs(new Date(after.ari_next_check_at!).getTime() - (Date.now() + 7200_000))).toBeLessThan(60_000);
    // Not due again until then.
    expect(await poller.poll()).toBe(0);
  });

  it('a CA without ARI (the built-in CA) clears the schedule', async () => {
    const id = await managedIssuedBy('builtin');
    const poller = new AriPoller(orm, createLogger('silent'), { intervalMs: 1000, loadIssuer: (em, name) => loadIssuer(em, box, name) });
    await poller.poll();
    expect((await row(id)).ari_next_check_at).toBeNull();
  });
});
