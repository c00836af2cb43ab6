// One Connect session with the controller: Hello, then Welcome; then check-ins on a timer, a full
// inventory at the start and at every rescan interval, and jobs as they come. Resolves when the stream
// ends for any reason; the caller reconnects.
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { AgentConfig } from '../config.js';
import type { AgentGatewayClient } from '../../../proto/generated/certflow/agent/v1/AgentGateway.js';
import type { AgentMessage } from '../../../proto/generated/certflow/agent/v1/AgentMessage.js';
import type { ControllerMessage__Output } from '../../../proto/generated/certflow/agent/v1/ControllerMessage.js';
import type { Job__Output } from '../../../proto/generated/certflow/agent/v1/Job.js';
import { gatherHostFacts } from '../host-facts.js';
import { fullInventoryChunks } from './inventory-report.js';
import { describeGrpcError } from './gateway-client.js';

export interface SessionOutcome {
  /** The controller answered with a Welcome: the connection itself works. */
  welcomed: boolean;
  error?: string;
}

type Stream = grpc.ClientDuplexStream<AgentMessage, ControllerMessage__Output>;

export async function runSession(client: AgentGatewayClient, config: AgentConfig, log: Logger, signal: AbortSignal): Promise<SessionOutcome> {
  const stream: Stream = client.connect();
  const timers: NodeJS.Timeout[] = [];
  let welcomed = false;
  let ended = false;
  let scanning: Promise<void> | null = null;

  const write = async (message: AgentMessage) => {
    if (ended) return;
    if (!stream.write(message)) await new Promise((resolve) => stream.once('drain', resolve));
  };

  const sendInventory = async () => {
    const started = Date.now();
    let certificates = 0;
    for await (const chunk of fullInventoryChunks(config.scan.paths, signal)) {
      if (ended) return;
      certificates += chunk.occurrences!.length;
      await write({ inventory: chunk });
    }
    log.info({ certificates, ms: Date.now() - started }, 'inventory sent');
  };

  // One scan at a time; a rescan asked for during a scan waits for it and then runs once.
  const rescan = () => {
    scanning = (scanning ?? Promise.resolve()).then(sendInventory).catch((err) => log.error({ err }, 'inventory scan failed'));
    return scanning;
  };

  const runJob = async (job: Job__Output) => {
    const jobLog = log.child({ jobId: job.jobId, kind: job.kind });
    try {
      switch (job.kind) {
        case 'rescan':
          await rescan();
          break;
        default:
          throw new Error(`this agent does not know jobs of kind "${job.kind}"`);
      }
      await write({ jobResult: { jobId: job.jobId, ok: true, error: '' } });
      jobLog.info('job done');
    } catch (err) {
      jobLog.warn({ error: (err as Error).message }, 'job failed');
      await write({ jobResult: { jobId: job.jobId, ok: false, error: (err as Error).message } });
    }
  };

  const onMessage = (message: ControllerMessage__Output) => {
    switch (message.body) {
      case 'welcome': {
        welcomed = true;
        const interval = (message.welcome!.checkInIntervalSeconds || config.checkInIntervalSeconds) * 1000;
        log.info({ checkInIntervalMs: interval }, 'connected to controller');
        timers.push(setInterval(() => void checkIn(), interval));
        timers.push(setInterval(() => void rescan(), config.scan.intervalSeconds * 1000));
        void rescan();
        return;
      }
      case 'job':
        void runJob(message.job!);
        return;
      case 'ack':
        if (!message.ack!.ok) log.warn({ ref: message.ack!.ref, error: message.ack!.error }, 'controller refused a message');
        return;
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
