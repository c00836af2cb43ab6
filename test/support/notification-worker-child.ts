// A stand-in for a controller's delivery worker in crash tests: runs the real DeliveryWorker on the given
// database, NATS prefix and master key (all from the environment: this is a test harness, not the
// controller) and, when CERTFLOW_TEST_NOTIFY_STOP_AT names a point of an attempt ("claimed": committed,
// nothing sent yet; "accepted": the receiver took the message, "sent" not yet recorded), prints
// "paused at POINT" there and waits to be killed.
import { connect } from 'nats';
import { createSecretBox } from '../../controller/src/crypto/master-key.js';
import { createOrm } from '../../controller/src/db/orm.js';
import { createLogger } from '../../controller/src/log.js';
import { subjects as makeSubjects } from '../../controller/src/messaging/subjects.js';
import { DeliveryWorker } from '../../controller/src/notifiers/delivery-worker.js';

const env = process.env;
const orm = await createOrm(env.CERTFLOW_DATABASE_URL!);
await orm.connect();
const nc = await connect({ servers: env.CERTFLOW_NATS_URL! });
const stopAt = env.CERTFLOW_TEST_NOTIFY_STOP_AT;
const worker = new DeliveryWorker({
  orm, nc, subjects: makeSubjects(env.CERTFLOW_NATS_PREFIX!), box: createSecretBox(Buffer.from(env.CERTFLOW_MASTER_KEY!, 'base64')),
  log: createLogger('warn'), pollMs: 200,
  onPoint: async (point, row) => {
    if (point !== stopAt) return;
    console.log(`paused at ${point} ${row.id}`);
    await new Promise(() => undefined); // until SIGKILL
  },
});
await worker.start();
console.log('worker started');
