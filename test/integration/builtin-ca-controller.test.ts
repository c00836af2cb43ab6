// The built-in CA as operators meet it: real controller processes. Two replicas started at the same time
// on an empty database make one CA between them and publish the same certificates; after a restart the
// controller serves the same root; the CRL URL in its answers is the configured public URL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteStreamsWithPrefix, testNatsUrl, uniquePrefix } from '../support/nats.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { makeMasterKeyFile, restartController, startController, type ControllerProcess } from '../support/processes.js';
import { createOrm, type Orm } from '../../controller/src/db/orm.js';

const prefix = uniquePrefix();
let db: TestDatabase;
let orm: Orm;
let replicas: ControllerProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  orm = await createOrm(db.url);
  await orm.connect();
});

afterAll(async () => {
  await Promise.all(replicas.map((r) => r.stop()));
  await orm?.close();
  await db?.drop();
  await deleteStreamsWithPrefix(testNatsUrl(), prefix).catch(() => undefined);
});

const chain = async (c: ControllerProcess) => {
  const res = await fetch(`${c.apiUrl}/ca/builtin.pem`);
  expect(res.status).toBe(200);
  return res.text();
};

describe('the built-in CA in the controller', () => {
  it('is created once when two replicas start together on an empty database, and both publish it', async () => {
    const masterKeyFile = await makeMasterKeyFile();
    replicas = await Promise.all([1, 2].map(() => startController({
      databaseUrl: db.url, natsPrefix: prefix, masterKeyFile, env: { CERTFLOW_PUBLIC_URL: 'https://certflow.example.test' },
    })));
    const created = replicas.map((r) => /"created":true,"msg":"built-in CA ready"/.test(r.output()));
    expect(created.filter(Boolean)).toHaveLength(1);
    const rows = await orm.em.getConnection().execute<{ name: string }[]>('select name from certificate_authorities');
    expect(rows).toEqual([{ name: 'builtin' }]);
    const [a, b] = await Promise.all(replicas.map(chain));
    expect(a).toBe(b);
    const list = await replicas[1].api('/api/v1/cas');
    expect(((await list.json()) as { items: unknown[] }).items[0]).toMatchObject({ crlUrl: 'https://certflow.example.test/crl/builtin.crl', health: { healthy: true } });
  });

  it('serves the same root after a restart', async () => {
    const before = await chain(replicas[0]);
    replicas[0] = await restartController(replicas[0]);
    expect(replicas[0].output()).toMatch(/"created":false,"msg":"built-in CA ready"/);
    expect(await chain(replicas[0])).toBe(before);
  });
});
