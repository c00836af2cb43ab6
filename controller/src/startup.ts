// Bringing up the controller's dependencies. Postgres and NATS are awaited side by side, each retried
// until it answers, and readiness says which is missing meanwhile: a controller started before its
// database or broker waits for them instead of crashing.
import type { Logger } from 'pino';
import type { NatsConnection } from 'nats';
import type { ControllerConfig } from './config.js';
import { createOrm, migrate, poolSizeFor, type Orm } from './db/orm.js';
import { connectNats, ensureStreams } from './messaging/nats.js';
import type { Subjects } from './messaging/subjects.js';
import { errorMessage } from './errors.js';

export interface Readiness {
  database: boolean;
  nats: boolean;
  gateway: boolean;
}

export async function retryUntil<T>(what: string, log: Logger, signal: AbortSignal, attempt: () => Promise<T>): Promise<T> {
  let delay = 500;
  for (let tries = 1; ; tries++) {
    signal.throwIfAborted();
    try {
      return await attempt();
    } catch (err) {
      log.warn({ attempt: tries, retryInMs: delay, error: errorMessage(err) }, `${what} unavailable, retrying`);
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 10_000);
    }
  }
}

export async function connectDatabase(config: ControllerConfig, log: Logger, signal: AbortSignal, readiness: Readiness): Promise<Orm> {
  const orm = await createOrm(config.databaseUrl, { poolMax: poolSizeFor(config.workflowConcurrency) });
  await retryUntil(`postgres (${redactUrl(config.databaseUrl)})`, log, signal, async () => {
    await orm.connect();
    if (!(await orm.isConnected())) throw new Error('connection check failed');
  });
  const applied = await migrate(orm);
  if (applied.length) log.info({ migrations: applied }, 'database migrated');
  readiness.database = true;
  return orm;
}

export async function connectBroker(config: ControllerConfig, subjects: Subjects, log: Logger, signal: AbortSignal, readiness: Readiness): Promise<NatsConnection> {
  const nc = await retryUntil(`nats (${config.natsUrl})`, log, signal, () => connectNats(config.natsUrl, 'certflow-controller'));
  await retryUntil('jetstream', log, signal, () => ensureStreams(nc, subjects));
  readiness.nats = true;
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') {
        readiness.nats = false;
        log.warn('nats disconnected');
      } else if (status.type === 'reconnect') {
        readiness.nats = true;
        log.info('nats reconnected');
      }
    }
  })();
  return nc;
}

/** Keeps `readiness.database` current with a cheap query every few seconds. */
export function watchDatabase(orm: Orm, readiness: Readiness, log: Logger, signal: AbortSignal): void {
  const timer = setInterval(() => {
    orm.em.getConnection().execute('select 1').then(() => {
      if (!readiness.database) log.info('postgres reachable again');
      readiness.database = true;
    }, (err) => {
      if (readiness.database) log.warn({ error: errorMessage(err) }, 'postgres unreachable');
      readiness.database = false;
    });
  }, 5000);
  timer.unref();
  signal.addEventListener('abort', () => clearInterval(timer));
}

export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable url)';
  }
}
