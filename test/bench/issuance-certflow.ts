// certflow's side of the issuance benchmark (issuance.bench.ts): a real controller (Postgres, NATS
// JetStream) with a real agent making every key and CSR, and the Pebble of the benchmark added as an ACME CA
// through the admin API. N managed certificates with file targets are declared under a template whose CA
// policy is that Pebble only, and become due at the same instant (the scheduler's advisory lock is held
// while they are declared, as in workflow.bench.ts). Each run goes discover → trigger → select-ca (Pebble's
// health: directory and account) → issue (the ACME order, then one makeCsr job on the agent that also
// serves the order's http-01 tokens, then validation, finalize and download) and then waits in deploy for a maintenance window days away, so deploy/validate/notify
// of the first certificates do not compete with the issuance of the last ones: the figure is issuance alone.
//
// The challenge (--challenge): http-01 answered by the agent (the makeCsr job carries the order's tokens: the
// agent serves them on Pebble's httpPort, which its acme.http01.ports allows; one port, so one agent), or dns-01
// through the exec-hook DNS provider, a shell script that sets the TXT record on pebble-challtestsrv with
// curl (what an operator's hook against their DNS API does).
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { deleteStreamsWithPrefix, testNatsUrl, uniquePrefix } from '../support/nats.js';
import type { RunningPebble } from '../support/pebble.js';
import { createTestDatabase } from '../support/postgres.js';
import { createEnrollmentToken, eventually, startAgent, startController, type AgentProcess, type ControllerProcess, deployingAgentConfig } from '../support/processes.js';
import { apiJson, createTemplate } from '../support/workflow.js';
import type { Measured } from './issuance-clients.js';

/** The renewal scheduler's advisory lock key (controller/src/scheduler/scheduler.ts). */
const SCHEDULER_LOCK_KEY = 0x63667363;

export interface CertflowOptions {
  pebble: RunningPebble;
  dir: string;
  names: string[];
  agents: number;
  challenge: 'http-01' | 'dns-01';
  /** The CA's maxConcurrentOrders. */
  maxOrders: number;
  /** CERTFLOW_WORKFLOW_CONCURRENCY (per replica). */
  workflowConcurrency: number;
  /** Controller replicas on the same database and NATS prefix (the agent holds its stream on the first). */
  replicas: number;
  env: Record<string, string>;
  timeoutMs: number;
}

export interface CertflowMeasured extends Measured {
  /** First issue stage started → last one finished (the issue stage's own window, without the stages before it). */
  issueWindowSeconds: number;
  /** Due → every run started (the scheduler's share). */
  allStartedSeconds: number | null;
  medianIssueStageMs: number;
  /** Certificates recorded as signed by the Pebble CA (one per run expected). */
  recordedByPebble: number;
  challenge: string;
  settings: string;
  /** Per stage up to issue: when the first started and the last finished (seconds after due), median elapsed and active ms. */
  stages: { stage: string; firstStart: number; lastFinish: number; medianElapsedMs: number; medianActiveMs: number }[];
}

const HOOK = `#!/bin/sh
# certflow exec DNS hook: $1 challtestsrv management URL, $2 present|cleanup, $3 FQDN, $4 value.
if [ "$2" = present ]; then
  exec curl -sf -o /dev/null -X POST -d "{\\"host\\":\\"$3\\",\\"value\\":\\"$4\\"}" "$1/set-txt"
else
  exec curl -sf -o /dev/null -X POST -d "{\\"host\\":\\"$3\\"}" "$1/clear-txt"
fi
`;

/** A weekday three days from now (UTC): a maintenance window on it is closed for the whole benchmark. */
function closedDay(): string {
  return ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'][(new Date().getUTCDay() + 3) % 7]!;
}

export async function benchCertflow(options: CertflowOptions): Promise<CertflowMeasured> {
  const { pebble, dir, names } = options;
  const hook = join(dir, 'dns-hook.sh');
  await writeFile(hook, HOOK);
  await chmod(hook, 0o755);
  const env = {
    CERTFLOW_LOG_LEVEL: 'info', // startController waits for the "controller ready" line
    CERTFLOW_SCHEDULER_INTERVAL_SECONDS: '1',
    CERTFLOW_MAX_STARTS_PER_SWEEP: String(names.length),
    CERTFLOW_WORKFLOW_CONCURRENCY: String(options.workflowConcurrency),
    ...options.env,
  };
  const settings = `workflowConcurrency ${env.CERTFLOW_WORKFLOW_CONCURRENCY}, maxStartsPerSweep ${env.CERTFLOW_MAX_STARTS_PER_SWEEP}, `
    + `sweep every ${env.CERTFLOW_SCHEDULER_INTERVAL_SECONDS} s, CA maxConcurrentOrders ${options.maxOrders} per replica, ${options.agents} agent(s), ${options.replicas} controller replica(s)`
    + `${Object.keys(options.env).length ? `, ${Object.entries(options.env).map(([k, v]) => `${k}=${v}`).join(' ')}` : ''}`;

  const db = await createTestDatabase();
  const prefix = uniquePrefix();
  const sql = new pg.Client({ connectionString: db.url });
  const lockHolder = new pg.Client({ connectionString: db.url });
  let controller: ControllerProcess | undefined;
  const others: ControllerProcess[] = [];
  const agents: AgentProcess[] = [];
  try {
    controller = await startController({ databaseUrl: db.url, natsPrefix: prefix, env });
    for (let r = 1; r < options.replicas; r++) {
      others.push(await startController({ databaseUrl: db.url, natsPrefix: prefix, masterKeyFile: controller.masterKeyFile, env }));
    }
    await sql.connect();
    await lockHolder.connect();
    await lockHolder.query('select pg_advisory_lock($1)', [SCHEDULER_LOCK_KEY]);
    for (let a = 0; a < options.agents; a++) {
      agents.push(await startAgent({
        controller: controller.grpcAddress, enrollment: await createEnrollmentToken(controller), scanPaths: [dir],
        extraConfig: {
          ...deployingAgentConfig(dir),
          ...(options.challenge === 'http-01' ? { acme: { http01: { ports: [pebble.httpChallengePort] } } } : {}),
        },
      }));
    }
    const agentIds = await eventually(async () => {
      const online = (await apiJson<{ items: { id: string; online: boolean }[] }>(controller!, '/api/v1/agents?limit=500')).items.filter((a) => a.online);
      return online.length === options.agents ? online.map((a) => a.id) : null;
    }, 60_000, `${options.agents} agents online`);

    // The CA (?check=true registers its account now, outside the timing, as the floor's account is).
    await apiJson(controller, '/api/v1/cas?check=true', {
      method: 'POST',
      body: JSON.stringify({
        name: 'pebble', kind: 'acme',
        config: {
          directoryUrl: pebble.directoryUrl, trustPem: pebble.tlsTrustPem, maxConcurrentOrders: options.maxOrders,
          challenge: options.challenge === 'http-01'
            ? { type: 'http-01', port: pebble.httpChallengePort, bindAddress: '127.0.0.1' }
            : { type: 'dns-01', provider: { kind: 'exec', command: ['/bin/sh', hook, pebble.challtestsrvUrl] } },
        },
        policy: { allowedDomains: ['bench.test'], maxValidityDays: 90, keyTypes: ['ecdsa-p256'] },
      }),
    }, 201);
    await createTemplate(controller, 'pebble-issuance', {
      ca: { policy: [{ ca: 'pebble' }] },
      // The hold after issue: deploy waits for a maintenance window days away (cheaper than an approval gate,
      // which would make approval requests, signed links and events for every run while others still issue).
      deploy: { maintenanceWindows: [{ days: [closedDay()], start: '00:00', end: '00:01', timeZone: 'UTC' }] },
    });
    for (const [i, name] of names.entries()) {
      await apiJson(controller, '/api/v1/managed-certificates', {
        method: 'POST',
        body: JSON.stringify({
          template: 'pebble-issuance', dnsNames: [name],
          targets: [{ agentId: agentIds[i % agentIds.length], kind: 'file', options: { certificatePath: join(dir, `${name}.pem`), keyPath: join(dir, `${name}.key`) } }],
        }),
      }, 201);
    }

    // Go: every certificate is due now.
    await lockHolder.query('select pg_advisory_unlock($1)', [SCHEDULER_LOCK_KEY]);
    const dueAt = Date.now();
    let allStartedSeconds: number | null = null;
    let lastError: string | undefined;
    for (;;) {
      const { rows: [counts] } = await sql.query<{ runs: string; issued: string; failed: string }>(`select
        (select count(*) from workflow_runs) as runs,
        (select count(*) from workflow_stages where stage = 'issue' and state = 'succeeded') as issued,
        (select count(*) from workflow_runs where state in ('failed', 'cancelled')) as failed`);
      if (allStartedSeconds === null && Number(counts!.runs) >= names.length) allStartedSeconds = (Date.now() - dueAt) / 1000;
      if (Number(counts!.issued) + Number(counts!.failed) >= names.length) break;
      if (Date.now() - dueAt > options.timeoutMs) {
        lastError = `gave up after ${options.timeoutMs / 1000} s: ${counts!.issued} issued, ${counts!.failed} failed`;
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }

    const { rows: [window] } = await sql.query<{ first_start: Date | null; last_finish: Date | null; issued: string; median_ms: number | null }>(`
      select min(started_at) as first_start, max(finished_at) as last_finish, count(*) as issued,
             percentile_cont(0.5) within group (order by extract(epoch from (finished_at - started_at)) * 1000) as median_ms
      from workflow_stages where stage = 'issue' and state = 'succeeded'`);
    const { rows: stageRows } = await sql.query<{ stage: string; first_start: Date; last_finish: Date; elapsed_ms: number; active_ms: number }>(`
      select stage, min(started_at) as first_start, max(finished_at) as last_finish,
             percentile_cont(0.5) within group (order by extract(epoch from (finished_at - started_at)) * 1000) as elapsed_ms,
             percentile_cont(0.5) within group (order by active_ms) as active_ms
      from workflow_stages where stage in ('discover', 'trigger', 'select-ca', 'approve-issue', 'issue') and state in ('succeeded', 'skipped')
      group by stage order by min(started_at)`);
    const { rows: failures } = await sql.query<{ error: string | null }>(`select error from workflow_runs where state in ('failed', 'cancelled') limit 1`);
    const { rows: [recorded] } = await sql.query<{ n: string }>(`
      select count(*) as n from issued_certificates i join certificate_authorities c on c.id = i.ca_id
      where c.name = 'pebble' and i.serial_hex is not null`);
    const issued = Number(window!.issued);
    return {
      issued,
      failed: names.length - issued,
      seconds: ((window!.last_finish?.getTime() ?? Date.now()) - dueAt) / 1000,
      firstError: failures[0]?.error ?? lastError,
      issueWindowSeconds: window!.first_start && window!.last_finish ? (window!.last_finish.getTime() - window!.first_start.getTime()) / 1000 : NaN,
      allStartedSeconds,
      medianIssueStageMs: Number(window!.median_ms ?? NaN),
      recordedByPebble: Number(recorded!.n),
      challenge: options.challenge === 'http-01'
        ? `http-01 answered by the agent on 127.0.0.1:${pebble.httpChallengePort} (tokens served by the host's makeCsr job)`
        : 'dns-01 through the exec hook (sh + curl to pebble-challtestsrv)',
      settings,
      stages: stageRows.map((r) => ({
        stage: r.stage, firstStart: (r.first_start.getTime() - dueAt) / 1000, lastFinish: (r.last_finish.getTime() - dueAt) / 1000,
        medianElapsedMs: Number(r.elapsed_ms), medianActiveMs: Number(r.active_ms),
      })),
    };
  } catch (err) {
    if (controller) console.log(controller.output().split('\n').filter((l) => /"level":(40|50)/.test(l)).slice(-10).join('\n'));
    throw err;
  } finally {
    for (const agent of agents) await agent.stop();
    for (const other of others) await other.stop();
    await controller?.stop();
    await sql.end().catch(() => undefined);
    await lockHolder.end().catch(() => undefined);
    await db.drop();
    await deleteStreamsWithPrefix(testNatsUrl(), prefix);
  }
}
