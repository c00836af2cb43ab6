// One agent's Connect stream: Hello → Welcome, then check-ins, chunked inventory reports and job results
// from the agent, and jobs and acks from the controller. The agent is identified by its client
// certificate before anything is read from the stream.
import * as grpc from '@grpc/grpc-js';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Subjects } from '../messaging/subjects.js';
import type { Logger } from 'pino';
import type { AgentMessage__Output } from '../../../proto/generated/certflow/agent/v1/AgentMessage.js';
import type { ControllerMessage } from '../../../proto/generated/certflow/agent/v1/ControllerMessage.js';
import type { InventoryReport__Output } from '../../../proto/generated/certflow/agent/v1/InventoryReport.js';
import type { AgentCa } from '../crypto/agent-ca.js';
import { Agent } from '../db/entities/agent.js';
import { applyInventory, type InventoryReportInput } from '../inventory/apply-inventory.js';
import { claimJobsToSend, JOBS_PER_DELIVERY, recordJobResult } from '../agent-jobs/agent-jobs.js';
import { jobMessage } from '../agent-jobs/deploy-job-payloads.js';
import type { SecretBox } from '../crypto/master-key.js';
import { openUserSecret } from '../secrets/user-secrets.js';
import { jobOutputRecord } from '../agent-jobs/job-outputs.js';
import { authenticateAgent, GatewayError, peerCertificatePem } from './peer-identity.js';
import { toHostFactsRecord } from './host-facts.js';
import type { SessionRegistry } from './session-registry.js';

export type AgentStream = grpc.ServerDuplexStream<AgentMessage__Output, ControllerMessage>;

export interface SessionDeps {
  orm: MikroORM;
  ca: AgentCa;
  log: Logger;
  registry: SessionRegistry;
  checkInIntervalSeconds: number;
  subjects: Subjects;
  /** Opens the secrets a job names (PKCS#12 passwords) when it is sent; null: such jobs fail. */
  box: SecretBox | null;
}

/** Bounds on one inventory report, so an agent that lies about its size cannot exhaust memory. */
const MAX_REPORT_CHUNKS = 1000;
const MAX_REPORT_OCCURRENCES = 200_000;

export async function handleAgentStream(deps: SessionDeps, call: AgentStream): Promise<void> {
  let agent: Agent;
  try {
    agent = await authenticateAgent(call, deps.orm.em.fork(), deps.ca);
  } catch (err) {
    endWithError(call, err, deps.log);
    return;
  }
  const log = deps.log.child({ agentId: agent.id });
  const agentId = agent.id;
  let closed = false;
  const pendingReports = new Map<string, Required<InventoryReportInput> & { chunks: number; includes: Set<string> }>();
  // Messages are handled one at a time, in order, so a check-in never overtakes the report before it.
  let queue: Promise<void> = Promise.resolve();

  const send = (message: ControllerMessage) => {
    if (!closed) call.write(message);
  };

  // Jobs go out one delivery at a time: two wake-ups at once would otherwise both read the same pending
  // job and send it twice. Jobs sent but unanswered are sent again only on the session's first delivery
  // (the agent reconnected and may never have seen them), not on every wake-up: with hundreds of jobs in
  // flight each wake-up re-sent all of them, and an agent working one job twice at once failed it.
  let delivering: Promise<void> = Promise.resolve();
  let resendUnanswered = true;
  const deliverOnce = async () => {
    const em = deps.orm.em.fork();
    let includeSent = resendUnanswered;
    for (;;) {
      const batch = await claimJobsToSend(em, agentId, { includeSent });
      for (const job of batch) {
        if (closed) return;
        let opened: { pkcs12Password?: string } = {};
        const secretName = job.kind === 'deploy' ? (job.payload as { pkcs12PasswordSecret?: string }).pkcs12PasswordSecret : undefined;
        if (secretName) {
          try {
            if (!deps.box) throw new Error('the gateway has no master key');
            opened = { pkcs12Password: await openUserSecret(em, deps.box, secretName) };
          } catch (err) {
            // Never sent without its password: the job fails, saying why, and its stage wakes up.
            await recordJobResult(em, agentId, { jobId: job.id, ok: false, error: `the keystore password secret "${secretName}" cannot be opened: ${(err as Error).message}` }, deps.subjects);
            continue;
          }
        }
        let message: ReturnType<typeof jobMessage>;
        try {
          message = jobMessage(job, opened);
        } catch (err) {
          // A payload that cannot become a message (stored malformed) fails its job instead of every delivery.
          await recordJobResult(em, agentId, { jobId: job.id, ok: false, error: `the job cannot be sent: ${(err as Error).message}` }, deps.subjects);
          continue;
        }
        send({ job: message });
      }
      if (includeSent) resendUnanswered = includeSent = false;
      // More than a batch waiting (hundreds of runs at once): without another wake-up the rest would wait.
      if (batch.length < JOBS_PER_DELIVERY) return;
    }
  };

  const session = {
    agentId,
    deliverJobs: () => {
      const next = delivering.then(deliverOnce);
      delivering = next.catch(() => undefined);
      return next;
    },
    close: (reason: string) => {
      if (closed) return;
      closed = true;
      log.info({ reason }, 'agent session closed');
      call.end();
    },
  };

  const handle = async (message: AgentMessage__Output) => {
    const em = deps.orm.em.fork();
    const now = new Date();
    switch (message.body) {
      case 'hello': {
        const host = toHostFactsRecord(message.hello?.host);
        // The identity certificate it connected with (verified above): shared keys are sealed to its key.
        await em.nativeUpdate(Agent, { id: agentId }, {
          hostFacts: host, name: host.hostname || agent.name, lastSeenAt: now, identityCertificatePem: peerCertificatePem(call),
        });
        const current = await em.findOne(Agent, { id: agentId }, { fields: ['networkScan'], disableIdentityMap: true });
        send({ welcome: {
          agentId, checkInIntervalSeconds: deps.checkInIntervalSeconds, serverTimeUnixMs: String(now.getTime()),
          networkScan: current?.networkScan ?? { ranges: [], ports: [] },
        } });
        await session.deliverJobs();
        return;
      }
      case 'checkIn': {
        const host = toHostFactsRecord(message.checkIn?.host);
        await em.nativeUpdate(Agent, { id: agentId }, { hostFacts: host, lastCheckInAt: now, lastSeenAt: now });
        return;
      }
      case 'inventory':
        return handleInventoryChunk(message.inventory!, em);
      case 'jobResult': {
        const result = message.jobResult!;
        // Only known, bounded outputs are kept (see job-outputs.ts).
        const recorded = await recordJobResult(em, agentId, { jobId: result.jobId, ok: result.ok, error: result.error, output: jobOutputRecord(result) }, deps.subjects);
        send({ ack: { ref: result.jobId, ok: recorded, error: recorded ? '' : 'no such open job for this agent' } });
        return;
      }
      default:
        log.warn('agent sent an empty message');
    }
  };

  const handleInventoryChunk = async (chunk: InventoryReport__Output, em: ReturnType<MikroORM['em']['fork']>) => {
    const id = chunk.reportId;
    const report = pendingReports.get(id) ?? {
      full: chunk.full, chunks: 0, occurrences: [], problems: [], removed: [], keystores: [], bindings: [], endpoints: [], includes: new Set<string>(),
    };
    pendingReports.set(id, report);
    report.chunks += 1;
    report.occurrences.push(...chunk.occurrences.map((o) => ({ path: o.path, index: o.index, format: o.format, der: Buffer.from(o.der), keyPath: o.keyPath })));
    report.problems.push(...chunk.problems.map((p) => ({ path: p.path, message: p.message })));
    report.removed.push(...chunk.removed.map((r) => ({ path: r.path, index: r.index })));
    report.keystores.push(...chunk.keystores);
    report.bindings.push(...chunk.bindings);
    report.endpoints.push(...chunk.endpoints);
    if (chunk.keystoresIncluded) report.includes.add('keystores');
    if (chunk.bindingsIncluded) report.includes.add('bindings');
    if (chunk.endpointsIncluded) report.includes.add('endpoints');
    if (report.chunks > MAX_REPORT_CHUNKS || report.occurrences.length + report.endpoints.length + report.removed.length > MAX_REPORT_OCCURRENCES) {
      pendingReports.delete(id);
      send({ ack: { ref: id, ok: false, error: 'inventory report too large' } });
      log.warn({ reportId: id }, 'inventory report refused: too large');
      return;
    }
    if (!chunk.lastChunk) return;
    pendingReports.delete(id);
    const result = await applyInventory(em, agentId, {
      full: report.full,
      occurrences: report.occurrences,
      problems: report.problems,
      removed: report.removed,
      keystores: report.includes.has('keystores') ? report.keystores : undefined,
      bindings: report.includes.has('bindings') ? report.bindings : undefined,
      endpoints: report.includes.has('endpoints') ? report.endpoints : undefined,
    });
    log.info({ reportId: id, full: report.full, certificates: result.certificates, locations: result.locations, removed: result.removed,
      problems: result.problems.length }, 'inventory applied');
    send({ ack: { ref: id, ok: true, error: '' } });
  };

  deps.registry.add(session);
  log.info('agent session opened');

  call.on('data', (message: AgentMessage__Output) => {
    queue = queue.then(() => handle(message)).catch((err) => {
      log.error({ err }, 'agent message failed');
      // A job answer is recorded in one transaction: after a failure (Postgres refusing a connection, a
      // deadlock) it was not recorded, or a second copy is refused as no longer open. So the agent may
      // send it again; final refusals (no such open job, report too large) are the acks sent elsewhere.
      send({ ack: { ref: message.inventory?.reportId ?? message.jobResult?.jobId ?? '', ok: false, error: 'controller error; retry later', retry: true } });
      // Without a welcome the agent would sit in this session doing nothing: end it, and it reconnects.
      if (message.body === 'hello') session.close('the hello could not be handled');
    });
  });
  const finish = () => {
    deps.registry.remove(session);
    if (!closed) {
      closed = true;
      log.info('agent session ended');
    }
    void deps.orm.em.fork().nativeUpdate(Agent, { id: agentId }, { lastSeenAt: new Date() }).catch(() => {});
  };
  call.on('end', () => {
    finish();
    call.end();
  });
  call.on('error', finish);
  call.on('cancelled', finish);
}

function endWithError(call: AgentStream, err: unknown, log: Logger): void {
  if (err instanceof GatewayError) {
    log.warn({ code: grpc.status[err.code], reason: err.message }, 'agent stream refused');
    // Emitting 'error' (not destroy) is what makes grpc-js send this status to the client.
    call.emit('error', Object.assign(new Error(err.message), err.toStatus()));
    return;
  }
  log.error({ err }, 'agent stream failed');
  call.emit('error', Object.assign(new Error('internal error'), { code: grpc.status.INTERNAL, details: 'internal error' }));
}
