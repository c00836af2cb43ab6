// What the workflow's integration tests start before anything else: a database of their own, a controller
// on a NATS prefix of its own, and one real agent allowed to deploy under a fresh directory, online.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deleteStreamsWithPrefix, testNatsUrl, uniquePrefix } from './nats.js';
import type { RunningPebble } from './pebble.js';
import { createTestDatabase } from './postgres.js';
import {
  createEnrollmentToken, deployingAgentConfig, onlineAgentId, startAgent, startController, type AgentProcess, type ControllerProcess,
} from './processes.js';
import { sql } from './reliability.js';
import { apiJson } from './workflow.js';

export interface WorkflowStack {
  db: Awaited<ReturnType<typeof createTestDatabase>>;
  prefix: string;
  dir: string;
  controller: ControllerProcess;
  agent: AgentProcess;
  agentId: string;
  /**
   * Stops the agent and the controller, drops the database and the streams, removes the directory.
   * `current`: the processes now running, when the test relaunched or restarted the ones it was given.
   */
  stop(current?: { controller?: ControllerProcess; agent?: AgentProcess }): Promise<void>;
}

export async function startWorkflowStack(options: {
  env: Record<string, string>;
  /** The directory's name prefix under the system's temporary directory. */
  dirPrefix: string;
  /** The agent's extra configuration; deployingAgentConfig(dir) unless given. */
  agentConfig?: (dir: string) => Record<string, unknown>;
  onlineTimeoutMs?: number;
}): Promise<WorkflowStack> {
  const db = await createTestDatabase();
  const prefix = uniquePrefix();
  const dir = await mkdtemp(join(tmpdir(), options.dirPrefix));
  const controller = await startController({ databaseUrl: db.url, natsPrefix: prefix, env: options.env });
  const agent = await startAgent({
    controller: controller.grpcAddress, enrollment: await createEnrollmentToken(controller), scanPaths: [dir],
    extraConfig: (options.agentConfig ?? deployingAgentConfig)(dir),
  });
  const agentId = await onlineAgentId(controller, options.onlineTimeoutMs ?? 20_000);
  return {
    db, prefix, dir, controller, agent, agentId,
    async stop(current = {}) {
      await (current.agent ?? agent).stop();
      await (current.controller ?? controller).stop();
      await db.drop();
      await deleteStreamsWithPrefix(testNatsUrl(), prefix);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** An agent that deploys under `dir` and answers Pebble's http-01 challenges on its challenge port. */
export function http01AgentConfig(pebble: RunningPebble): (dir: string) => Record<string, unknown> {
  return (dir) => ({ ...deployingAgentConfig(dir), acme: { http01: { ports: [pebble.httpChallengePort], maxServeSeconds: 120 } } });
}

/** Adds `pebble` as ACME CA `name`, validating with http-01 answered by the target's agent. */
export async function addPebbleHttp01Ca(controller: ControllerProcess, pebble: RunningPebble, name: string, allowedDomain: string): Promise<void> {
  await apiJson(controller, '/api/v1/cas', { method: 'POST', body: JSON.stringify({
    name, kind: 'acme',
    config: {
      directoryUrl: pebble.directoryUrl, trustPem: pebble.tlsTrustPem,
      challenge: { type: 'http-01', port: pebble.httpChallengePort, bindAddress: '127.0.0.1' },
    },
    policy: { allowedDomains: [allowedDomain], maxValidityDays: 3650, keyTypes: ['ecdsa-p256', 'rsa-2048'] },
  }) }, 201);
}

/** One of a run's http-01 jobs (http01Jobs): the payload is the start or stop it carries. */
export interface Http01JobRow {
  kind: 'makeCsr' | 'http01Challenge';
  state: string;
  payload: { action: string; port: number; webroot: string; tokens: unknown[] };
  result: { http01?: { status: string; mode: string; files: string[] } } | null;
  error: string | null;
}

/**
 * A run's http-01 jobs, oldest first, read from Postgres (the API shows jobs one at a time): the host's
 * makeCsr job that serves the tokens too (shown with the start its serveHttp01 carries), separate
 * Http01Challenge start jobs, and the stop jobs.
 */
export function http01Jobs(dbUrl: string, runId: string): Promise<Http01JobRow[]> {
  return sql<Http01JobRow>(dbUrl,
    `select kind, state, coalesce(payload->'serveHttp01', payload) as payload, result, error from agent_jobs
      where (kind = 'http01Challenge' and payload->>'challengeId' like $1) or (kind = 'makeCsr' and payload->'serveHttp01'->>'challengeId' like $1)
      order by created_at`, [`${runId}.%`]);
}
