// Runs once before the whole vitest run: check that the shared PostgreSQL and NATS (JetStream)
// servers answer, so a missing service fails the run at once with one clear message instead of
// every test timing out on its own.
import { connect } from 'nats';
import { Client } from 'pg';
import { testNatsUrl } from './nats.js';
import { testPgUrl } from './postgres.js';

const HOW_TO_START =
  'Run the tests with `bash scripts/test.sh` (it installs and starts the services), or start them by hand:\n' +
  "  PostgreSQL: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n" +
  '  NATS:       start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- ' +
  '-a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log\n' +
  'or point CERTFLOW_TEST_PG_URL / CERTFLOW_TEST_NATS_URL at servers of your own.';

/** The URL without a password, for messages. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

async function checkPostgres(): Promise<string | undefined> {
  const url = testPgUrl();
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await client.query('select 1');
    return undefined;
  } catch (err) {
    return `PostgreSQL is not reachable at ${redact(url)} (CERTFLOW_TEST_PG_URL): ${(err as Error).message}`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function checkNats(): Promise<string | undefined> {
  const url = testNatsUrl();
  let nc;
  try {
    nc = await connect({ servers: url, timeout: 5_000, reconnect: false });
  } catch (err) {
    return `NATS is not reachable at ${redact(url)} (CERTFLOW_TEST_NATS_URL): ${(err as Error).message}`;
  }
  try {
    // Fails with "503" when the server runs without -js.
    await (await nc.jetstreamManager()).getAccountInfo();
    return undefined;
  } catch (err) {
    return `NATS at ${redact(url)} answers but JetStream is not usable (start nats-server with -js): ${(err as Error).message}`;
  } finally {
    await nc.close().catch(() => undefined);
  }
}

export default async function setup(): Promise<void> {
  const problems = (await Promise.all([checkPostgres(), checkNats()])).filter((p): p is string => p !== undefined);
  if (problems.length > 0) {
    throw new Error(`certflow tests need their services:\n- ${problems.join('\n- ')}\n${HOW_TO_START}`);
  }
}
