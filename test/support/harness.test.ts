// Proves the test helpers themselves work, so a failure elsewhere is not a broken harness.
import { createServer } from 'node:net';
import { connect, StringCodec } from 'nats';
import { Client } from 'pg';
import { describe, expect, it } from 'vitest';
import { freePort } from './free-port.js';
import { deleteStreamsWithPrefix, startPrivateNats, testNatsUrl, uniquePrefix } from './nats.js';
import { createTestDatabase, startPrivatePostgres, testPgUrl } from './postgres.js';

async function queryOne(url: string, sql: string): Promise<unknown> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const result = await client.query(sql);
    return Object.values(result.rows[0] ?? {})[0];
  } finally {
    await client.end();
  }
}

describe('freePort', () => {
  it('returns a port on 127.0.0.1 that a server can listen on', async () => {
    const port = await freePort();
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    await new Promise((resolve) => server.close(resolve));
    expect(port).toBeGreaterThan(0);
  });
});

describe('createTestDatabase', () => {
  it('creates a database of its own that answers queries, and drops it even with a connection open', async () => {
    const db = await createTestDatabase();
    expect(db.name).toMatch(/^certflow_t_[0-9a-f]+$/);
    expect(await queryOne(db.url, 'select current_database()')).toBe(db.name);
    expect(await queryOne(db.url, 'select 1 as one')).toBe(1);

    const lingering = new Client({ connectionString: db.url });
    lingering.on('error', () => undefined); // it is about to be terminated
    await lingering.connect();
    await db.drop();
    await db.drop(); // twice is harmless

    const exists = await queryOne(
      testPgUrl(),
      `select count(*)::int from pg_database where datname = '${db.name}'`,
    );
    expect(exists).toBe(0);
    await lingering.end().catch(() => undefined);
  });

  it('gives parallel callers different databases', async () => {
    const dbs = await Promise.all([createTestDatabase(), createTestDatabase(), createTestDatabase()]);
    try {
      expect(new Set(dbs.map((d) => d.name)).size).toBe(3);
    } finally {
      await Promise.all(dbs.map((d) => d.drop()));
    }
  });
});

describe('startPrivateNats', () => {
  it('runs a nats-server that delivers published messages to subscribers, until it is stopped', async () => {
    const server = await startPrivateNats();
    try {
      const nc = await connect({ servers: server.url });
      const sc = StringCodec();
      const sub = nc.subscribe('harness.hello', { max: 1 });
      nc.publish('harness.hello', sc.encode('hi'));
      for await (const msg of sub) expect(sc.decode(msg.data)).toBe('hi');
      await nc.close();

      await server.stop();
      await expect(connect({ servers: server.url, reconnect: false, timeout: 1_000 })).rejects.toThrow();
    } finally {
      await server.destroy();
    }
  });

  it('keeps JetStream streams across a restart', async () => {
    const server = await startPrivateNats();
    try {
      let nc = await connect({ servers: server.url });
      await (await nc.jetstreamManager()).streams.add({ name: 'kept', subjects: ['kept.>'] });
      await nc.jetstream().publish('kept.one', new Uint8Array([1]));
      await nc.close();

      await server.restart();

      nc = await connect({ servers: server.url });
      const info = await (await nc.jetstreamManager()).streams.info('kept');
      expect(info.state.messages).toBe(1);
      await nc.close();
    } finally {
      await server.destroy();
    }
  });
});

describe('deleteStreamsWithPrefix on the shared server', () => {
  it('deletes the streams and KV buckets named with the prefix and leaves the others alone', async () => {
    const mine = uniquePrefix();
    const other = uniquePrefix();
    expect(mine).toMatch(/^t[0-9a-f]{8}$/);
    expect(mine).not.toBe(other);

    const nc = await connect({ servers: testNatsUrl() });
    try {
      const jsm = await nc.jetstreamManager();
      await jsm.streams.add({ name: `${mine}_events`, subjects: [`${mine}.events.>`] });
      await nc.jetstream().views.kv(`${mine}_state`);
      await jsm.streams.add({ name: `${other}_events`, subjects: [`${other}.events.>`] });

      const deleted = await deleteStreamsWithPrefix(testNatsUrl(), mine);
      expect(deleted.sort()).toEqual([`KV_${mine}_state`, `${mine}_events`].sort());

      const left: string[] = [];
      for await (const si of jsm.streams.list()) left.push(si.config.name);
      expect(left).toContain(`${other}_events`);
      expect(left.filter((n) => n.includes(mine))).toEqual([]);
    } finally {
      await nc.close();
      await deleteStreamsWithPrefix(testNatsUrl(), other);
    }
  });
});

describe('startPrivatePostgres', () => {
  it('runs a cluster of its own that answers queries, survives being killed and is gone when stopped', async () => {
    const pg = await startPrivatePostgres();
    try {
      expect(pg.url).toBe(`postgres://postgres@127.0.0.1:${pg.port}/postgres`);
      expect(await queryOne(pg.url, 'select 1 as one')).toBe(1);
      await queryOne(pg.url, 'create table survivor (id int)');
      await queryOne(pg.url, 'insert into survivor values (42)');

      await pg.kill();
      await expect(queryOne(pg.url, 'select 1')).rejects.toThrow();
      await pg.start();
      expect(await queryOne(pg.url, 'select id from survivor')).toBe(42);

      await pg.stop();
      await expect(queryOne(pg.url, 'select 1')).rejects.toThrow();
    } finally {
      await pg.destroy();
    }
  });
});
