// The controller against dependencies that are down, and against bad configuration: it says what is
// wrong, keeps retrying, reports not-ready meanwhile, and becomes ready once they are back.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPrivatePostgres } from '../support/postgres.js';
import { createTestDatabase } from '../support/postgres.js';
import { startPrivateNats, uniquePrefix } from '../support/nats.js';
import { eventually, runTsx, startController, type ControllerProcess } from '../support/processes.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function readiness(controller: ControllerProcess) {
  const response = await fetch(`${controller.apiUrl}/readyz`);
  return { status: response.status, body: (await response.json()) as { database: boolean; nats: boolean } };
}

describe('controller start-up', () => {
  it('waits for Postgres when it is down, saying so, and becomes ready when it is back', async () => {
    const postgres = await startPrivatePostgres();
    cleanups.push(() => postgres.destroy());
    await postgres.stop();
    const controller = await startController({ databaseUrl: postgres.url.replace(/\/[^/]*$/, '/postgres'), natsPrefix: uniquePrefix(), waitReady: false });
    cleanups.push(() => controller.stop());
    await controller.waitForOutput(/postgres \(.*\) unavailable, retrying/);
    await eventually(async () => (await readiness(controller)).status === 503, 15_000, 'readyz to answer 503');
    expect((await readiness(controller)).body).toMatchObject({ database: false });
    expect(controller.child.exitCode).toBeNull();
    await postgres.start();
    await controller.waitForOutput(/"msg":"controller ready"/, 40_000);
    expect(await readiness(controller)).toMatchObject({ status: 200, body: { database: true, nats: true } });
  });

  it('waits for NATS when it is down, saying so, and becomes ready when it is back', async () => {
    const nats = await startPrivateNats();
    cleanups.push(() => nats.destroy());
    await nats.stop();
    const db = await createTestDatabase();
    const controller = await startController({ databaseUrl: db.url, natsUrl: nats.url, natsPrefix: uniquePrefix(), waitReady: false });
    cleanups.push(async () => {
      await controller.stop();
      await db.drop();
    });
    await controller.waitForOutput(/nats \(.*\) unavailable, retrying/);
    await eventually(async () => (await readiness(controller)).body.database === true, 15_000, 'the database side to be ready');
    expect(await readiness(controller)).toMatchObject({ status: 503, body: { nats: false } });
    await nats.start();
    await controller.waitForOutput(/"msg":"controller ready"/, 40_000);
    expect((await readiness(controller)).status).toBe(200);
  });
});

describe('bad configuration', () => {
  it('stops the controller with the variable named and exit code 2', async () => {
    const proc = runTsx('controller/src/main.ts', [], { CERTFLOW_CHECK_IN_INTERVAL_SECONDS: 'often', CERTFLOW_MASTER_KEY: 'x' });
    expect(await proc.exited).toBe(2);
    expect(proc.output()).toMatch(/CERTFLOW_CHECK_IN_INTERVAL_SECONDS: expected a whole number/);
  });

  it('stops the controller with the key and the file named for a bad config file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'certflow-cfg-'));
    const file = join(dir, 'controller.json');
    await writeFile(file, JSON.stringify({ apiListen: 'nowhere' }));
    const proc = runTsx('controller/src/main.ts', [], { CERTFLOW_CONFIG_FILE: file });
    expect(await proc.exited).toBe(2);
    expect(proc.output()).toContain(`key "apiListen" (file ${file})`);
  });

  it('refuses to start without a master key, saying how to make one', async () => {
    const proc = runTsx('controller/src/main.ts', [], { CERTFLOW_MASTER_KEY: '', CERTFLOW_MASTER_KEY_FILE: '' });
    expect(await proc.exited).toBe(2);
    expect(proc.output()).toMatch(/no master key: .*init-master-key/);
  });

  it('stops the agent with the key and the file named', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'certflow-cfg-'));
    const file = join(dir, 'agent.json');
    await writeFile(file, JSON.stringify({ controller: 'localhost:7443', scan: { paths: 'not-a-list' } }));
    const proc = runTsx('agent/src/main.ts', ['run', '--config', file], {});
    expect(await proc.exited).toBe(2);
    expect(proc.output()).toContain(`agent config ${file}: key "scan.paths"`);
    await writeFile(file, '{ not json');
    const broken = runTsx('agent/src/main.ts', ['run', '--config', file], {});
    expect(await broken.exited).toBe(2);
    expect(broken.output()).toContain(`cannot load agent config ${file}`);
  });

  it('stops an agent whose saved identity is damaged, saying what to do', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'certflow-cfg-'));
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(dir, 'identity'));
    for (const [name, content] of [['agent.json', '{"agentId":"x"}'], ['key.pem', 'junk'], ['cert.pem', 'not a certificate'], ['ca.pem', 'junk']]) {
      await writeFile(join(dir, 'identity', name), content);
    }
    const file = join(dir, 'agent.json');
    await writeFile(file, JSON.stringify({ controller: '127.0.0.1:1', stateDir: dir, scan: { paths: [dir] } }));
    const proc = runTsx('agent/src/main.ts', ['run', '--config', file], {});
    expect(await proc.exited).toBe(1);
    expect(proc.output()).toMatch(/identity in .* is damaged \(cert\.pem: .*\); restore it from a backup, or remove that directory and enrol again/);
    expect(proc.output()).not.toMatch(/\n\s+at /);
  });
});
