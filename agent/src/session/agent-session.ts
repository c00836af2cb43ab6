// One Connect session with the controller: Hello, then Welcome; then check-ins on a timer, a full
// inventory at the start and deltas as the host changes (see monitor/host-monitor.ts), and jobs as they
// come. Resolves when the stream ends for any reason; the caller reconnects.
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { AgentConfig } from '../config.js';
import type { AgentGatewayClient } from '../../../proto/generated/certflow/agent/v1/AgentGateway.js';
import type { AgentMessage } from '../../../proto/generated/certflow/agent/v1/AgentMessage.js';
import type { ControllerMessage__Output } from '../../../proto/generated/certflow/agent/v1/ControllerMessage.js';
import type { Job__Output } from '../../../proto/generated/certflow/agent/v1/Job.js';
import type { JobResult } from '../../../proto/generated/certflow/agent/v1/JobResult.js';
import { Http01Challenges } from '../acme/http01-challenges.js';
import { gatherHostFacts } from '../host-facts.js';
import { HostMonitor } from '../monitor/host-monitor.js';
import { exportKey } from '../keys/export-key.js';
import { makeCsr } from '../keys/make-csr.js';
import { DeployJobs, type JobAnswer } from './deploy-jobs.js';
import { describeGrpcError } from './gateway-client.js';
import { UnackedAnswers } from './unacked-answers.js';

export interface SessionOutcome {
  /** The controller answered with a Welcome: the connection itself works. */
  welcomed: boolean;
  error?: string;
}

type Stream = grpc.ClientDuplexStream<AgentMessage, ControllerMessage__Output>;

/**
 * `deployJobs` outlives the session (the caller keeps one per process): a deploy keeps running when the
 * stream breaks, and its job, delivered again on the next session, is answered when it finishes. So do
 * `http01` challenges: tokens stay served across a reconnect until stopped or expired.
 */
export async function runSession(
  client: AgentGatewayClient, config: AgentConfig, log: Logger, signal: AbortSignal, deployJobs = new DeployJobs(config, log),
  http01 = new Http01Challenges(config, log),
): Promise<SessionOutcome> {
  const stream: Stream = client.connect();
  const timers: NodeJS.Timeout[] = [];
  let welcomed = false;
  let ended = false;

  const write = async (message: AgentMessage) => {
    if (ended) return;
    if (!stream.write(message)) await new Promise((resolve) => stream.once('drain', resolve));
  };

  const sessionEnd = new AbortController();
  // Each job answer is kept until the controller acks it, and sent again if it could not record it.
  const answers = new UnackedAnswers((result) => write({ jobResult: result }), log);
  const monitor = new HostMonitor(config, log, async (chunks) => {
    for (const chunk of chunks) {
      if (ended) return;
      await write({ inventory: chunk });
    }
  });

  // A job sent again while this agent still works on it (the controller resends unanswered jobs after a
  // reconnect) is not started twice: two makeCsr runs of one key id collide in the key store.
  const jobsInProgress = new Set<string>();
  const runJob = async (job: Job__Output) => {
    if (jobsInProgress.has(job.jobId)) return;
    jobsInProgress.add(job.jobId);
    try {
      await runJobOnce(job);
    } finally {
      jobsInProgress.delete(job.jobId);
    }
  };
  const runJobOnce = async (job: Job__Output) => {
    const jobLog = log.child({ jobId: job.jobId, kind: job.kind });
    try {
      let answer: JobAnswer & Pick<JobResult, 'http01' | 'exportKey'> = { ok: true, error: '' };
      switch (job.kind) {
        case 'rescan':
          await monitor.rescan(sessionEnd.signal);
          break;
        case 'configureNetworkScan':
          await monitor.assignNetworkScan({
            ranges: job.configureNetworkScan?.ranges ?? [], ports: job.configureNetworkScan?.ports ?? [],
          }, sessionEnd.signal);
          break;
        case 'makeCsr': {
          const r = job.makeCsr!;
          // An ACME order placed before the key: its http-01 tokens are served first (a refusal fails the job),
          // so the controller can have the CA validate as soon as it has the CSR.
          const served = r.serveHttp01 ? await http01.run(r.serveHttp01) : undefined;
          const csr = await makeCsr(config.stateDir, {
            keyId: r.keyId, keyType: r.keyType, commonName: r.commonName, dnsNames: r.dnsNames, ipAddresses: r.ipAddresses,
          });
          answer = { ok: true, error: '', csr: served ? { ...csr, http01: served } : csr };
          break;
        }
        // These answer with a structured output even when they fail (what was refused, which step, rollback).
        case 'deploy':
          answer = await deployJobs.deploy(job.deploy!);
          break;
        case 'validate':
          answer = await deployJobs.validate(job.validate!);
          break;
        case 'rollback':
          answer = await deployJobs.rollback(job.rollback!);
          break;
        case 'http01Challenge':
          answer = { ok: true, error: '', http01: await http01.run(job.http01Challenge!) };
          break;
        case 'exportKey':
          answer = { ok: true, error: '', exportKey: await exportKey(config, job.exportKey!) };
          break;
        default:
          throw new Error(`this agent does not know jobs of kind "${job.kind}"`);
      }
      await answers.send({ jobId: job.jobId, ...answer });
      if (answer.ok) jobLog.info('job done');
      else jobLog.warn({ error: answer.error }, 'job failed');
    } catch (err) {
      jobLog.warn({ error: (err as Error).message }, 'job failed');
      await answers.send({ jobId: job.jobId, ok: false, error: (err as Error).message });
    }
  };

  const onMessage = (message: ControllerMessage__Output) => {
    switch (message.body) {
      case 'welcome': {
        welcomed = true;
        const interval = (message.welcome!.checkInIntervalSeconds || config.checkInIntervalSeconds) * 1000;
        log.info({ checkInIntervalMs: interval }, 'connected to controller');
        timers.push(setInterval(() => void checkIn(), interval));
        const assigned = message.welcome!.networkScan;
        void monitor.start({ ranges: assigned?.ranges ?? [], ports: assigned?.ports ?? [] }, sessionEnd.signal);
        return;
      }
      case 'job':
        void runJob(message.job!);
        return;
      case 'ack': {
        const ack = message.ack!;
        if (answers.onAck(ack)) return;
        // Not a job answer's: an inventory report's (or, with no ref, a check-in's). A refused report is
        // not sent again as such; the monitor's next report goes whole instead of a delta.
        if (!ack.ok) {
          log.warn({ ref: ack.ref, error: ack.error }, 'controller refused a message');
          monitor.reportRefused();
        }
        return;
      }
    }
  };

  const checkIn = async () => {
    await write({ checkIn: { host: await gatherHostFacts(), sentAtUnixMs: String(Date.now()) } });
  };

  return new Promise<SessionOutcome>((resolve) => {
    const finish = (error?: string) => {
      if (ended) return;
      ended = true;
      timers.forEach(clearInterval);
      answers.dropAll();
      sessionEnd.abort();
      signal.removeEventListener('abort', onAbort);
      resolve({ welcomed, error });
    };
    const onAbort = () => {
      stream.cancel();
      finish();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    stream.on('data', onMessage);
    stream.on('error', (err) => finish(describeGrpcError(err)));
    stream.on('end', () => finish('the controller ended the session'));
    void gatherHostFacts().then((host) => write({ hello: { host } }));
  });
}
