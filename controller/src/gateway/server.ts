// The agent gateway: a gRPC server speaking certflow.agent.v1 over TLS. Enroll needs no client
// certificate; RenewIdentity and Connect need one from the agent CA.
import * as grpc from '@grpc/grpc-js';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Subjects } from '../messaging/subjects.js';
import type { SecretBox } from '../crypto/master-key.js';
import type { Logger } from 'pino';
import { loadAgentContract } from '../../../proto/agent-contract.js';
import type { AgentGatewayHandlers } from '../../../proto/generated/certflow/agent/v1/AgentGateway.js';
import type { AgentCa } from '../crypto/agent-ca.js';
import { gatewayCredentials } from './credentials.js';
import { enroll } from './enroll.js';
import { renewIdentity } from './renew-identity.js';
import { authenticateAgent, GatewayError } from './peer-identity.js';
import { handleAgentStream } from './agent-session.js';
import { SessionRegistry } from './session-registry.js';

export interface GatewayDeps {
  orm: MikroORM;
  ca: AgentCa;
  log: Logger;
  registry: SessionRegistry;
  names: string[];
  checkInIntervalSeconds: number;
  agentCertificateDays: number;
  /** For waking the workflow stage an agent job answers. */
  subjects: Subjects;
  /** Opens secrets jobs name (PKCS#12 passwords) as they are sent. */
  box?: SecretBox | null;
}

export interface Gateway {
  port: number;
  stop(): Promise<void>;
}

export async function startGateway(deps: GatewayDeps, host: string, port: number): Promise<Gateway> {
  const log = deps.log.child({ component: 'gateway' });
  const contract = loadAgentContract();
  const server = new grpc.Server({
    // Many long-lived streams per replica: allow pings from idle agents and more memory per session.
    'grpc.keepalive_time_ms': 60_000,
    'grpc.keepalive_timeout_ms': 20_000,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.min_ping_interval_without_data_ms': 10_000,
    'grpc-node.max_session_memory': 64,
    'grpc.max_receive_message_length': 16 * 1024 * 1024,
  });
  const stageDeps = { em: deps.orm.em, ca: deps.ca, log, certificateDays: deps.agentCertificateDays };

  const handlers: AgentGatewayHandlers = {
    Enroll: (call, callback) => {
      enroll({ ...stageDeps, em: deps.orm.em.fork() }, call.request)
        .then((response) => callback(null, response))
        .catch((err) => callback(toServiceError(err, log)));
    },
    RenewIdentity: (call, callback) => {
      const em = deps.orm.em.fork();
      authenticateAgent(call, em, deps.ca)
        .then((agent) => renewIdentity({ ...stageDeps, em }, agent, call.request.csrPem))
        .then((response) => callback(null, response))
        .catch((err) => callback(toServiceError(err, log)));
    },
    Connect: (call) => {
      void handleAgentStream({ orm: deps.orm, ca: deps.ca, log, registry: deps.registry, checkInIntervalSeconds: deps.checkInIntervalSeconds, subjects: deps.subjects, box: deps.box ?? null }, call);
    },
  };
  server.addService(contract.AgentGateway.service, handlers);

  const serverCert = await deps.ca.issueServerCertificate(deps.names, 365);
  const { credentials } = gatewayCredentials(deps.ca.certPem, serverCert);
  const boundPort = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${port}`, credentials, (err, p) => (err ? reject(err) : resolve(p))));
  log.info({ host, port: boundPort }, 'agent gateway listening');

  return {
    port: boundPort,
    stop: () => new Promise<void>((resolve) => {
      deps.registry.closeAll('controller shutting down');
      const timer = setTimeout(() => server.forceShutdown(), 5000);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    }),
  };
}

function toServiceError(err: unknown, log: Logger): Partial<grpc.ServiceError> {
  if (err instanceof GatewayError) return { code: err.code, details: err.message, message: err.message };
  log.error({ err }, 'gateway call failed');
  return { code: grpc.status.INTERNAL, details: 'internal error', message: 'internal error' };
}
