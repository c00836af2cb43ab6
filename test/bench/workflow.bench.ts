// The whole workflow at volume: a real controller (Postgres, NATS JetStream, the built-in CA) and real
// agents on this host (each its own process and state dir). N declared certificates with file targets
// become due at the same instant and each goes discover → ... → issue (key made on the agent, signed by
// the built-in CA) → deploy (a deploy job writes the files) → validate → notify.
//
// To make them due "at once", the benchmark holds the scheduler's advisory lock while it declares them
// (every sweep then skips, as when another replica sweeps), and lets go: from that instant on it samples
// Postgres every 100 ms. Printed: the time the scheduler took to start them all (bounded by
// maxStartsPerSweep per sweep) and what each of its sweeps took, runs/s and runs/min end to end, run
// durations (p50/p95/p99), each stage's median active time, the most runs active at once, and the checks
// that every certificate had exactly one run, that it succeeded, that the CA signed exactly one
// certificate for it, and that the deployed file is that certificate. No assertions on time. The
// mission's figure is "hundreds of workflows at once".
//
//   npm run bench -- workflow [--runs 1000] [--agents 2] [--sweep-seconds 1] [--max-starts N]
//                             [--concurrency N] [--env NAME=VALUE ...] [--sweep-certificates 1000000]
// Then, as the issue asks, the scheduler's sweep time over --sweep-certificates certificates (scheduler-sweep.ts;
// 0 skips it).
// --max-starts and --concurrency default to the controller's own defaults (printed); --env passes any
// other controller setting (e.g. --env CERTFLOW_WORKFLOW_TICK_MS=200).
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { loadControllerConfig } from '../../controller/src/config.js';
import { deleteStreamsWithPrefix, testNatsUrl, uniquePrefix } from '../support/nats.js';
import { createTestDatabase } from '../support/postgres.js';
import { createEnrollmentToken, eventually, startAgent, startController, type AgentProcess, type ControllerProcess, deployingAgentConfig } from '../support/processes.js';
import { apiJson } from '../support/workflow.js';
import { benchSweep } from './scheduler-sweep.js';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '1000' },
    'sweep-certificates': { type: 'string', default: '1000000' },
    agents: { type: 'string', default: '2' },
    'sweep-seconds': { type: 'string', default: '1' },
    'max-starts': { type: 'string' },
    concurrency: { type: 'string' },
    env: { type: 'string', multiple: true, default: [] },
    timeout: { type: 'string', default: '900' },
  },
});
const RUNS = Number(args.runs);
const AGENTS = Number(args.agents);
/** The controller's defaults, to print next to what this run used. */
const defaults = loadControllerConfig({ CERTFLOW_DATABASE_URL: 'postgres://localhost/x' });
const MAX_STARTS = Number(args['max-starts'] ?? defaults.maxStartsPerSweep);
const CONCURRENCY = Number(args.concurrency ?? defaults.workflowConcurrency);
const TIMEOUT_MS = Number(args.timeout) * 1000;
/** The renewal scheduler's advisory lock key (controller/src/scheduler/scheduler.ts). */
const SCHEDULER_LOCK_KEY = 0x63667363;
const FINISHED = ['succeeded', 'failed', 'rejected', 'cancelled', 'rolled-back'];

const controllerEnv: Record<string, string> = {
  CERTFLOW_LOG_LEVEL: 'info', // startController waits for the "controller ready" line
  CERTFLOW_SCHEDULER_INTERVAL_SECONDS: String(args['sweep-seconds']),
  CERTFLOW_MAX_STARTS_PER_SWEEP: String(MAX_STARTS),
  CERTFLOW_WORKFLOW_CONCURRENCY: String(CONCURRENCY),
  ...Object.fromEntries(args.env.map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)])),
};

/** What each sweep that started runs took, from the controller's "scheduler: sweep" log lines. */
function sweepTimes(output: string): string {
  const sweeps: { started: number; ms: number }[] = [];
  for (const line of output.split('\n')) {
    if (!line.includes('"msg":"scheduler: sweep"')) continue;
    try {
      const { started, ms: took } = JSON.parse(line) as { started?: number; ms?: number };
      if (typeof started === 'number' && typeof took === 'number') sweeps.push({ started, ms: took });
    } catch {
      // not a whole line
    }
  }
  if (sweeps.length === 0) return 'sweep times not logged';
  return `the sweeps that started them took ${sweeps.slice(0, 8).map((s) => `${ms(s.ms)} (${s.started} runs)`).join(', ')}${sweeps.length > 8 ? ', …' : ''}`;
}

const percentile = (sorted: number[], p: number) => sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! : NaN;
const median = (values: number[]) => percentile([...values].sort((a, b) => a - b), 50);
const ms = (value: number) => (value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`);

const db = await createTestDatabase();
const prefix = uniquePrefix();
const dir = await mkdtemp(join(tmpdir(), 'certflow-bench-wf-'));
const sql = new pg.Client({ connectionString: db.url });
const lockHolder = new pg.Client({ connectionString: db.url });
let controller: ControllerProcess | undefined;
const agents: AgentProcess[] = [];
let failed = false;
try {
  controller = await startController({ databaseUrl: db.url, natsPrefix: prefix, env: controllerEnv });
  await sql.connect();
  await lockHolder.connect();
  // No sweep starts anything until every certificate is declared.
  await lockHolder.query('select pg_advisory_lock($1)', [SCHEDULER_LOCK_KEY]);

  // Every agent may write anywhere under the one target directory; each certificate has its own files.
  for (let a = 0; a < AGENTS; a++) {
    agents.push(await startAgent({
      controller: controller.grpcAddress, enrollment: await createEnrollmentToken(controller), scanPaths: [dir],
      extraConfig: deployingAgentConfig(dir),
    }));
  }
  const agentIds = await eventually(async () => {
    const online = (await apiJson<{ items: { id: string; online: boolean }[] }>(controller!, '/api/v1/agents?limit=500')).items.filter((a) => a.online);
    return online.length === AGENTS ? online.map((a) => a.id) : null;
  }, 60_000, `${AGENTS} agents online`);

  let started = performance.now();
  const ids: string[] = [];
  for (let i = 0; i < RUNS; i++) {
    const agentId = agentIds[i % AGENTS]!;
    const name = `site${i}.bench.example`;
    const managed = await apiJson<{ id: string }>(controller, '/api/v1/managed-certificates', {
      method: 'POST',
      body: JSON.stringify({ dnsNames: [name], targets: [{ agentId, kind: 'file', options: { certificatePath: join(dir, `${name}.pem`), keyPath: join(dir, `${name}.key`) } }] }),
    }, 201);
    ids.push(managed.id);
  }
  console.log(`declared ${RUNS} certificates (${AGENTS} agents, file targets) in ${ms(performance.now() - started)}`);
  console.log(`controller: maxStartsPerSweep ${MAX_STARTS}${args['max-starts'] ? '' : ' (the default)'}, sweep every ${args['sweep-seconds']} s (default ${defaults.schedulerIntervalSeconds} s), `
    + `workflowConcurrency ${CONCURRENCY}${args.concurrency ? '' : ' (the default)'}, workflowTickMs ${controllerEnv.CERTFLOW_WORKFLOW_TICK_MS ?? `${defaults.workflowTickMs} (the default)`}`
    + `${args.env.length ? `, ${args.env.join(' ')}` : ''}`);

  // Go: every certificate is due now.
  await lockHolder.query('select pg_advisory_unlock($1)', [SCHEDULER_LOCK_KEY]);
  started = performance.now();
  let allStartedAt: number | null = null;
  let maxActive = 0;
  let finished = 0;
  for (;;) {
    const { rows: [counts] } = await sql.query<{ runs: string; active: string; finished: string }>(
      `select count(*) as runs, count(*) filter (where state <> all($1)) as active, count(*) filter (where state = any($1)) as finished from workflow_runs`, [FINISHED]);
    maxActive = Math.max(maxActive, Number(counts!.active));
    finished = Number(counts!.finished);
    if (allStartedAt === null && Number(counts!.runs) >= RUNS) allStartedAt = performance.now() - started;
    if (finished >= RUNS) break;
    if (performance.now() - started > TIMEOUT_MS) {
      console.log(`gave up after ${ms(TIMEOUT_MS)}: ${counts!.runs} started, ${finished} finished`);
      failed = true;
      break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const wall = performance.now() - started;

  const runs = await sql.query<{ managed_certificate_id: string; state: string; error: string | null; created_at: Date; finished_at: Date | null }>(
    'select managed_certificate_id, state, error, created_at, finished_at from workflow_runs');
  const firstStart = Math.min(...runs.rows.map((r) => r.created_at.getTime()));
  const lastEnd = Math.max(...runs.rows.filter((r) => r.finished_at).map((r) => r.finished_at!.getTime()));
  const durations = runs.rows.filter((r) => r.finished_at).map((r) => r.finished_at!.getTime() - r.created_at.getTime()).sort((a, b) => a - b);
  const stages = await sql.query<{ stage: string; active_ms: number; elapsed_ms: number | null }>(
    `select stage, active_ms, extract(epoch from (finished_at - started_at)) * 1000 as elapsed_ms from workflow_stages where state in ('succeeded', 'skipped')`);
  const byStage = new Map<string, { active: number[]; elapsed: number[] }>();
  for (const s of stages.rows) {
    const entry = byStage.get(s.stage) ?? { active: [], elapsed: [] };
    entry.active.push(Number(s.active_ms));
    if (s.elapsed_ms !== null) entry.elapsed.push(Number(s.elapsed_ms));
    byStage.set(s.stage, entry);
  }

  console.log(`scheduler: all ${RUNS} runs started ${allStartedAt === null ? '(never)' : `${ms(allStartedAt)} after they became due`} `
    + `(at most ${MAX_STARTS} a sweep, a sweep every ${args['sweep-seconds']} s: ≥ ${Math.ceil(RUNS / MAX_STARTS)} sweeps); ${sweepTimes(controller.output())}`);
  console.log(`end to end: ${finished} runs finished ${ms(wall)} after they became due; first start to last finish ${ms(lastEnd - firstStart)}`);
  console.log(`throughput: ${(finished / (wall / 1000)).toFixed(1)} runs/s = ${Math.round(finished / (wall / 60_000))} runs/min (from due to the last finish)`);
  console.log(`run duration (start → finish): p50 ${ms(percentile(durations, 50))}, p95 ${ms(percentile(durations, 95))}, p99 ${ms(percentile(durations, 99))}, max ${ms(durations.at(-1) ?? NaN)}`);
  console.log(`most runs active at once (sampled every 100 ms): ${maxActive}`);
  console.log('stage           median active  median elapsed (incl. waiting for agents and the queue)');
  for (const stage of ['discover', 'trigger', 'select-ca', 'approve-issue', 'issue', 'approve-deploy', 'deploy', 'validate', 'notify']) {
    const entry = byStage.get(stage);
    if (entry) console.log(`${stage.padEnd(16)}${ms(median(entry.active)).padStart(13)}  ${ms(median(entry.elapsed)).padStart(14)}`);
  }

  // Exactly once: one run per certificate, succeeded; one certificate signed per run; the deployed file is it.
  const perCertificate = new Map<string, string[]>();
  for (const r of runs.rows) perCertificate.set(r.managed_certificate_id, [...(perCertificate.get(r.managed_certificate_id) ?? []), r.state]);
  const notOnce = ids.filter((id) => (perCertificate.get(id) ?? []).length !== 1);
  const notSucceeded = runs.rows.filter((r) => r.state !== 'succeeded');
  const issued = await sql.query<{ key: string; signed: string }>(
    `select split_part(idempotency_key, ':', 1) as key, count(*) filter (where serial_hex is not null) as signed from issued_certificates group by 1`);
  const signedTwice = issued.rows.filter((r) => Number(r.signed) !== 1);
  const managed = await sql.query<{ id: string; name: string; current_fingerprint_sha256: string | null; targets: { agentId: string; options: { certificatePath: string } }[] }>(
    'select id, name, current_fingerprint_sha256, targets from managed_certificates');
  let deployedMismatch = 0;
  for (const m of managed.rows) {
    try {
      const pem = await readFile(m.targets[0]!.options.certificatePath, 'utf8');
      const fingerprint = new X509Certificate(pem).fingerprint256.replaceAll(':', '').toLowerCase();
      if (fingerprint !== m.current_fingerprint_sha256) deployedMismatch++;
    } catch {
      deployedMismatch++;
    }
  }
  console.log(`exactly once: ${ids.length - notOnce.length}/${RUNS} certificates had exactly one run; ${runs.rows.length - notSucceeded.length}/${runs.rows.length} runs succeeded; `
    + `${issued.rows.length - signedTwice.length}/${issued.rows.length} runs had exactly one certificate signed; ${managed.rows.length - deployedMismatch}/${managed.rows.length} deployed files are the recorded certificate`);
  if (notOnce.length || notSucceeded.length || signedTwice.length || deployedMismatch || issued.rows.length !== RUNS) {
    failed = true;
    for (const r of notSucceeded.slice(0, 5)) console.log(`  not succeeded: ${r.state} ${r.error ?? ''}`);
  }
} finally {
  for (const agent of agents) await agent.stop();
  if (failed && controller) console.log(controller.output().split('\n').filter((l) => /"level":(40|50)/.test(l)).slice(-15).join('\n'));
  await controller?.stop();
  await sql.end().catch(() => undefined);
  await lockHolder.end().catch(() => undefined);
  await db.drop();
  await deleteStreamsWithPrefix(testNatsUrl(), prefix);
  await rm(dir, { recursive: true, force: true });
}
const sweepCount = Number(args['sweep-certificates']);
if (sweepCount > 0) await benchSweep(sweepCount);
process.exit(failed ? 1 : 0);
