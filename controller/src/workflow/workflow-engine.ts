// The workflow's moving parts, started and stopped together by the composition root: the outbox relay,
// the stage runner, the watchdog, the renewal scheduler, the ARI poller and the audit sequencer. Every
// replica runs them all.
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { NatsConnection } from 'nats';
import { AuditSequencer } from '../audit/audit-sequencer.js';
import type { ControllerConfig } from '../config.js';
import type { SecretBox } from '../crypto/master-key.js';
import type { Issuer } from '../issuers/issuer.js';
import { loadIssuer } from '../issuers/issuer-registry.js';
import type { Logger } from '../log.js';
import type { Subjects } from '../messaging/subjects.js';
import { RenewalScheduler } from '../scheduler/scheduler.js';
import { AriPoller } from '../scheduler/ari-poller.js';
import { OutboxRelay } from './outbox-relay.js';
import { WorkflowRunner } from './runner.js';
import type { StageDeps } from './stage-handler.js';
import { stageHandlers } from './stages/index.js';
import { WorkflowWatchdog } from './watchdog.js';

export interface WorkflowEngine {
  scheduler: RenewalScheduler;
  stop(): Promise<void>;
}

// A CA's row is read once per transaction: select-ca and the issue stage fused after it use the same
// issuer (still read fresh by every transaction, so a changed or disabled CA counts from the next one).
const issuersOfTransaction = new WeakMap<EntityManager, Map<string, Promise<Issuer>>>();

function issuerOfTransaction(em: EntityManager, name: string, load: () => Promise<Issuer>): Promise<Issuer> {
  let issuers = issuersOfTransaction.get(em);
  if (!issuers) issuersOfTransaction.set(em, (issuers = new Map()));
  let issuer = issuers.get(name);
  if (!issuer) {
    issuer = load();
    issuers.set(name, issuer);
    issuer.catch(() => issuers.delete(name));
  }
  return issuer;
}

export function stageDepsFromConfig(config: ControllerConfig, subjects: Subjects, box: SecretBox, log: Logger): StageDeps {
  return {
    subjects, box, log: log.child({ component: 'workflow' }), publicUrl: config.publicUrl,
    settings: {
      stageTimeoutMs: config.stageTimeoutSeconds * 1000,
      maxAttempts: config.stageMaxAttempts,
      retryDelayMs: config.stageRetryDelaySeconds * 1000,
      maxRetryDelayMs: Math.max(config.stageRetryDelaySeconds * 1000, 120_000),
      agentJobTimeoutMs: config.agentJobTimeoutMinutes * 60_000,
      waitRecheckMs: 30_000,
    },
    loadIssuer: (em, name) => issuerOfTransaction(em, name, () => loadIssuer(em, box, name, { publicUrl: config.publicUrl })),
    now: () => new Date(),
  };
}

export async function startWorkflowEngine(orm: MikroORM, nc: NatsConnection, config: ControllerConfig, subjects: Subjects, box: SecretBox, log: Logger): Promise<WorkflowEngine> {
  const deps = stageDepsFromConfig(config, subjects, box, log);
  const relay = new OutboxRelay(orm, nc, deps.log);
  const runner = new WorkflowRunner(orm, nc, deps, stageHandlers, { concurrency: config.workflowConcurrency, ackWaitMs: config.workflowAckWaitSeconds * 1000 });
  const watchdog = new WorkflowWatchdog(orm, subjects, deps.log, { intervalMs: config.workflowTickMs, stuckAfterMs: config.stageStuckAfterMinutes * 60_000 });
  const scheduler = new RenewalScheduler(orm, subjects, deps.log, {
    intervalMs: config.schedulerIntervalSeconds * 1000, maxStartsPerSweep: config.maxStartsPerSweep,
    fleet: { offlineAfterMs: config.checkInIntervalSeconds * config.offlineAfterIntervals * 1000, expiryThresholdsDays: config.expiryNoticeDays },
  });
  const ariPoller = new AriPoller(orm, deps.log, { intervalMs: Math.max(1000, config.schedulerIntervalSeconds * 1000), loadIssuer: deps.loadIssuer });
  const auditSequencer = new AuditSequencer(orm, deps.log);
  auditSequencer.start();
  relay.start();
  await runner.start();
  watchdog.start();
  scheduler.start();
  ariPoller.start();
  return {
    scheduler,
    async stop() {
      await ariPoller.stop();
      await scheduler.stop();
      await watchdog.stop();
      await runner.stop();
      await relay.stop();
      await auditSequencer.stop();
    },
  };
}
