// The agent's life: enrol once, then stay connected. Between sessions it waits a jittered, growing delay;
// a session that got as far as a Welcome resets the delay. Its own certificate is renewed before a
// session starts whenever it is due, and sessions are restarted every few hours so that check happens.
import type { Logger } from 'pino';
import type { AgentConfig } from './config.js';
import { ensureEnrolled } from './identity/enroll.js';
import { identityRenewalDue, renewIdentity } from './identity/renew.js';
import type { AgentIdentity } from './identity/identity-store.js';
import { createGatewayClient, describeGrpcError } from './session/gateway-client.js';
import { runSession } from './session/agent-session.js';
import { reconnectDelayMs, sleep } from './session/backoff.js';
import { recoverDeploysAtStart } from './deploy/deploy-environment.js';
import { loadDeployRecord, saveDeployRecord } from './deploy/deploy-records.js';
import { DeployJobs } from './session/deploy-jobs.js';
import { Http01Challenges } from './acme/http01-challenges.js';
import { recoveredOutput } from './session/deploy-outputs.js';

const IDENTITY_CHECK_INTERVAL_MS = 6 * 3600_000;

export async function runAgent(config: AgentConfig, log: Logger, signal: AbortSignal): Promise<void> {
  // A deploy cut short by a crash is finished or reverted before anything else, controller or not.
  for (const recovered of await recoverDeploysAtStart(config, log, signal)) {
    log.warn({ deployId: recovered.deployId, action: recovered.action, files: recovered.files.length, problems: recovered.problems }, 'recovered an interrupted deploy');
    // The controller learns of it as the answer to that deploy's job, which it sends again because it was
    // never answered. A rollback interrupted after its deploy was answered keeps the deploy's answer.
    if (!(await loadDeployRecord(config.stateDir, recovered.deployId))) {
      await saveDeployRecord(config.stateDir, recovered.deployId, recoveredOutput(recovered));
    }
  }
  const deployJobs = new DeployJobs(config, log);
  const http01 = new Http01Challenges(config, log);
  try {
    await stayConnected(config, log, signal, deployJobs, http01);
  } finally {
    // Tokens are not left served or written when the agent stops.
    await http01.stopAll();
  }
}

async function stayConnected(config: AgentConfig, log: Logger, signal: AbortSignal, deployJobs: DeployJobs, http01: Http01Challenges): Promise<void> {
  let identity: AgentIdentity = await ensureEnrolled(config, log, signal);
  const agentLog = log.child({ agentId: identity.agentId });
  let attempt = 0;
  while (!signal.aborted) {
    const client = createGatewayClient(config.controller, {
      caPem: identity.caPem, keyPem: identity.keyPem, certPem: identity.certPem, serverName: config.serverName,
    });
    try {
      if (identityRenewalDue(identity.certPem, config.renewIdentityAtRemainingFraction)) {
        identity = await renewIdentity(client, identity, config.stateDir, agentLog);
        client.close();
        continue; // reconnect with the new certificate
      }
      const sessionEnd = new AbortController();
      const onAbort = () => sessionEnd.abort();
      signal.addEventListener('abort', onAbort, { once: true });
      const recycle = setTimeout(() => sessionEnd.abort(), IDENTITY_CHECK_INTERVAL_MS);
      const outcome = await runSession(client, config, agentLog, sessionEnd.signal, deployJobs, http01);
      clearTimeout(recycle);
      signal.removeEventListener('abort', onAbort);
      if (outcome.welcomed) attempt = 0;
      if (outcome.error) agentLog.warn({ error: outcome.error }, 'disconnected from controller');
    } catch (err) {
      agentLog.warn({ error: describeGrpcError(err) }, 'controller call failed');
    } finally {
      client.close();
    }
    if (signal.aborted) break;
    const delay = reconnectDelayMs(attempt++);
    agentLog.info({ delayMs: delay, attempt }, 'reconnecting');
    await sleep(delay, signal);
  }
}
