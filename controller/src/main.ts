// certflow-controller: the composition root. `certflow-controller` runs the controller;
// `certflow-controller migrate` applies migrations and exits; `certflow-controller init-master-key FILE`
// writes a new master key.
import type { MikroORM } from '@mikro-orm/postgresql';
import type { NatsConnection } from 'nats';
import { loadControllerConfig, splitHostPort, type ControllerConfig } from './config.js';
import { createLogger } from './log.js';
import { ConfigError, errorMessage } from './errors.js';
import { createSecretBox, loadMasterKey, MasterKeyMismatchError, writeNewMasterKey } from './crypto/master-key.js';
import { loadOrCreateAgentCa } from './crypto/agent-ca-store.js';
import type { AgentCa } from './crypto/agent-ca.js';
import { ensureBuiltinCa } from './issuers/internal/internal-ca-store.js';
import { ensureInitialAdminToken } from './auth/admin-tokens.js';
import { subjects as makeSubjects } from './messaging/subjects.js';
import { connectBroker, connectDatabase, watchDatabase, type Readiness } from './startup.js';
import { startGateway, type Gateway } from './gateway/server.js';
import { SessionRegistry } from './gateway/session-registry.js';
import { createApiServer } from './api/server.js';
import { createOrm, migrate } from './db/orm.js';
import { startWorkflowEngine, type WorkflowEngine } from './workflow/workflow-engine.js';
import { DeliveryWorker } from './notifiers/delivery-worker.js';

const USAGE = 'usage: certflow-controller [run | migrate | init-master-key FILE]';
/** Longest a graceful stop may take (systemd's TimeoutStopSec for the controller is 30 s). */
const STOP_DEADLINE_MS = 25_000;

async function run(config: ControllerConfig): Promise<void> {
  const log = createLogger(config.logLevel);
  const box = createSecretBox(loadMasterKey(config));
  const shutdown = new AbortController();
  const readiness: Readiness = { database: false, nats: false, gateway: false };
  const subjects = makeSubjects(config.natsPrefix);
  const registry = new SessionRegistry();
  let agentCa: AgentCa | null = null;
  let orm: MikroORM | null = null;
  let nc: NatsConnection | null = null;
  let gateway: Gateway | null = null;
  let workflow: WorkflowEngine | null = null;
  let notifications: DeliveryWorker | null = null;

  // The API answers /healthz and /readyz from the first moment, so an orchestrator sees "alive, not ready".
  const ormForApi = await createOrm(config.databaseUrl);
  const api = await createApiServer({
    orm: ormForApi,
    log,
    config,
    readiness: () => ({ ...readiness }),
    agentCa: () => (agentCa ? { certPem: agentCa.certPem, fingerprintSha256: agentCa.fingerprintSha256 } : null),
    nats: () => (nc ? { nc, subjects } : null),
    box,
  });
  const apiAddress = splitHostPort(config.apiListen);
  await api.listen({ host: apiAddress.host, port: apiAddress.port });
  log.info({ address: config.apiListen }, 'admin API listening');

  const stop = async (signal: string) => {
    if (shutdown.signal.aborted) return;
    // A stop that cannot finish (the database or broker gone mid-shutdown, a log pipe closed under it) must
    // not leave a half-stopped controller running: within systemd's TimeoutStopSec, it exits anyway.
    setTimeout(() => process.exit(1), STOP_DEADLINE_MS).unref();
    shutdown.abort();
    try {
      log.info({ signal }, 'shutting down');
    } catch {
      // stdout is gone; stop all the same.
    }
    await workflow?.stop().catch(() => {});
    await notifications?.stop().catch(() => {});
    await gateway?.stop();
    await api.close();
    await nc?.drain().catch(() => {});
    await orm?.close();
    await ormForApi.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  try {
    [orm, nc] = await Promise.all([
      connectDatabase(config, log, shutdown.signal, readiness),
      connectBroker(config, subjects, log, shutdown.signal, readiness),
    ]);
  } catch (err) {
    if (shutdown.signal.aborted) return;
    throw err;
  }
  await ormForApi.connect();
  watchDatabase(orm, readiness, log, shutdown.signal);

  agentCa = (await loadOrCreateAgentCa(orm.em.fork(), box)).ca;
  log.info({ caFingerprintSha256: agentCa.fingerprintSha256 }, 'agent CA ready');
  const builtinCa = await ensureBuiltinCa(orm.em.fork(), box);
  log.info({ created: builtinCa.created }, 'built-in CA ready');
  const initialToken = await ensureInitialAdminToken(orm.em.fork(), config.adminToken);
  if (initialToken) {
    // Shown once, on the terminal only (never through the logger): only its hash is stored.
    process.stderr.write(`\ncertflow: initial admin token (shown once, store it now):\n  ${initialToken}\n\n`);
  }

  registry.listenForWakeUps(nc, subjects, (err) => log.error({ err }, 'job delivery failed'));
  const grpcAddress = splitHostPort(config.grpcListen);
  gateway = await startGateway({
    orm, ca: agentCa, log, registry, names: config.gatewayNames,
    checkInIntervalSeconds: config.checkInIntervalSeconds, agentCertificateDays: config.agentCertificateDays, subjects, box,
  }, grpcAddress.host, grpcAddress.port);
  readiness.gateway = true;
  workflow = await startWorkflowEngine(orm, nc, config, subjects, box, log);
  // Notifications read the event stream on their own consumer: a slow channel never holds up the workflow.
  notifications = new DeliveryWorker({ orm, box, nc, subjects, log });
  await notifications.start();
  log.info('controller ready');
}

async function main(argv: string[]): Promise<number> {
  const [command = 'run', ...rest] = argv;
  if (command === '--help' || command === '-h') {
    console.log(USAGE);
    return 0;
  }
  if (command === 'init-master-key') {
    if (!rest[0]) {
      console.error(USAGE);
      return 2;
    }
    writeNewMasterKey(rest[0]);
    console.log(`certflow: wrote a new master key to ${rest[0]} (mode 0600); keep a copy somewhere safe`);
    return 0;
  }
  const config = loadControllerConfig();
  if (command === 'migrate') {
    const orm = await createOrm(config.databaseUrl);
    await orm.connect();
    const applied = await migrate(orm);
    await orm.close();
    console.log(applied.length ? `applied ${applied.length} migration(s): ${applied.join(', ')}` : 'database is up to date');
    return 0;
  }
  if (command !== 'run') {
    console.error(USAGE);
    return 2;
  }
  await run(config);
  return -1; // keeps running
}

main(process.argv.slice(2)).then((code) => {
  if (code >= 0) process.exit(code);
}, (err) => {
  const known = err instanceof ConfigError || err instanceof MasterKeyMismatchError;
  console.error(`certflow-controller: ${known ? errorMessage(err) : (err as Error).stack ?? String(err)}`);
  process.exit(known ? 2 : 1);
});
