// The delivery worker SIGKILLed at the two moments that matter, then another worker taking over once the
// claim runs out. Killed after the claim was committed and before anything was sent: the message is sent
// once. Killed after the receiver accepted it and before "sent" was recorded: it is sent a second time —
// the documented one-duplicate window — carrying the same X-Certflow-Delivery id, so the receiver can
// recognise it.
import { connect } from 'nats';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretBox } from '../../controller/src/crypto/master-key.js';
import { createOrm, migrate, type Orm } from '../../controller/src/db/orm.js';
import { ensureStreams } from '../../controller/src/messaging/nats.js';
import { subjects as makeSubjects } from '../../controller/src/messaging/subjects.js';
import { createChannel } from '../../controller/src/notifiers/channels.js';
import { deleteStreamsWithPrefix, testNatsUrl, uniquePrefix } from '../support/nats.js';
import { sampleEvent } from '../support/notification-events.js';
import { startHttpReceiver, type HttpReceiver } from '../support/notification-receivers.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { eventually, runTsx, type RunningProcess } from '../support/processes.js';

const CHILD = 'test/support/notification-worker-child.ts';
const prefix = uniquePrefix();
const masterKey = randomBytes(32);
let db: TestDatabase;
let orm: Orm;
let hook: HttpReceiver;
const children: RunningProcess[] = [];

function worker(stopAt?: string): RunningProcess {
  const child = runTsx(CHILD, [], {
    CERTFLOW_DATABASE_URL: db.url, CERTFLOW_NATS_URL: testNatsUrl(), CERTFLOW_NATS_PREFIX: prefix,
    CERTFLOW_MASTER_KEY: masterKey.toString('base64'), CERTFLOW_TEST_NOTIFY_STOP_AT: stopAt ?? '',
  });
  children.push(child);
  return child;
}

beforeAll(async () => {
  db = await createTestDatabase();
  orm = await createOrm(db.url);
  await orm.connect();
  await migrate(orm);
  hook = await startHttpReceiver();
  const nc = await connect({ servers: testNatsUrl() });
  await ensureStreams(nc, makeSubjects(prefix));
  await nc.close();
  const box = createSecretBox(masterKey);
  for (const name of ['before-send', 'after-accept']) {
    await createChannel(orm.em.fork(), box, {
      name, kind: 'webhook', config: { url: `${hook.url}/${name}` }, secrets: { signingSecret: 'crash-test-signing-secret' },
      defaultEvents: [], timeoutSeconds: 1, retryBackoffSeconds: 1,
    }, 'test');
  }
});

afterAll(async () => {
  for (const child of children) await child.kill();
  await hook?.close();
  await orm?.close();
  await db?.drop();
  await deleteStreamsWithPrefix(testNatsUrl(), prefix);
});

async function publishTo(channel: string) {
  // The channel's default events say which channel an event kind goes to; one kind per scenario.
  const kind = channel === 'before-send' ? 'run.failed' : 'run.succeeded';
  await orm.em.fork().execute(`update notification_channels set default_events = ?::jsonb where name = ?`, [JSON.stringify([kind]), channel]);
  const event = sampleEvent(kind);
  const nc = await connect({ servers: testNatsUrl() });
  await nc.jetstream().publish(makeSubjects(prefix).event(kind), JSON.stringify(event), { msgID: event.id });
  await nc.close();
  return event;
}

const row = async (eventId: string) =>
  (await orm.em.fork().execute(`select state, attempts from notification_deliveries where event_id = ?`, [eventId]))[0] as { state: string; attempts: number } | undefined;

describe('delivery worker killed mid-delivery', () => {
  it('sends once when killed after claiming and before sending', async () => {
    const first = worker('claimed');
    const event = await publishTo('before-send');
    await first.waitForOutput(/paused at claimed/);
    await first.kill();
    expect(await row(event.id)).toMatchObject({ state: 'sending', attempts: 1 });
    const second = worker();
    await eventually(async () => (await row(event.id))?.state === 'sent', 30_000, 'the delivery to be sent by the second worker');
    const received = hook.requests.filter((r) => r.headers['x-certflow-event-id'] === event.id);
    expect(received).toHaveLength(1);
    expect(await row(event.id)).toMatchObject({ attempts: 2 });
    await second.kill();
  }, 60_000);

  it('sends a second time, with the same delivery id, when killed after the receiver accepted', async () => {
    const first = worker('accepted');
    const event = await publishTo('after-accept');
    await first.waitForOutput(/paused at accepted/);
    await first.kill();
    const second = worker();
    await eventually(async () => (await row(event.id))?.state === 'sent', 30_000, 'the delivery to be sent by the second worker');
    const received = hook.requests.filter((r) => r.headers['x-certflow-event-id'] === event.id);
    expect(received).toHaveLength(2);
    expect(received[0].headers['x-certflow-delivery']).toBe(received[1].headers['x-certflow-delivery']);
    await second.kill();
  }, 60_000);
});
