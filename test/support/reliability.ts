// Helpers for the workflow reliability tests: relaunching a controller with failpoints armed, waiting for
// it to kill itself, reading the database behind it, and checking that every run ended exactly once.
import pg from 'pg';
import { connect } from 'nats';
import { startController, type ControllerProcess } from './processes.js';
import { FAST_WORKFLOW_ENV } from './workflow.js';
import { subjects as makeSubjects } from '../../controller/src/messaging/subjects.js';

/** FAST_WORKFLOW_ENV with a short ack wait, so work a dead replica held comes back within seconds. */
export const RELIABILITY_ENV: Record<string, string> = {
  ...FAST_WORKFLOW_ENV,
  CERTFLOW_WORKFLOW_ACK_WAIT_SECONDS: '2',
};

export async function sql<T = Record<string, unknown>>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return (await client.query(text, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/**
 * Kills the previous controller (SIGKILL if it still runs: a crash, not a shutdown) and starts it again
 * on the same database, broker, ports and master key with `env` on top of its previous settings.
 */
export async function relaunch(previous: ControllerProcess, env: Record<string, string>): Promise<ControllerProcess> {
  await previous.kill();
  const next = await startController({ ...previous.options, env: { ...previous.options.env, ...env } });
  return Object.assign(next, { adminToken: previous.adminToken, api: previous.api });
}

/** Waits until the controller killed itself at `failpoint`; fails if it exited any other way. */
export async function waitForFailpoint(controller: ControllerProcess, failpoint: string, timeoutMs = 60_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), timeoutMs); });
  const outcome = await Promise.race([controller.exited, timedOut]);
  clearTimeout(timer);
  const tail = controller.output().split('\n').filter((l) => !/"level":(20|30)/.test(l)).slice(-30).join('\n');
  if (outcome === 'timeout') throw new Error(`the controller did not reach failpoint ${failpoint} within ${timeoutMs} ms:\n${tail}`);
  if (controller.child.signalCode !== 'SIGKILL' || !controller.output().includes(`certflow failpoint ${failpoint}: SIGKILL`)) {
    throw new Error(`the controller exited (code ${outcome}, signal ${controller.child.signalCode}) but not at failpoint ${failpoint}:\n${tail}`);
  }
}

const SUCCEEDED_STAGES = ['discover', 'trigger', 'select-ca', 'approve-issue', 'issue', 'approve-deploy', 'deploy', 'validate', 'notify'];

export interface RunRecord {
  id: string;
  managed_certificate_id: string;
  state: string;
  error: string | null;
}

/**
 * Waits until the running controllers' audit sequencers have chained every committed audit entry (the
 * workflow writes its entries to audit_pending first), so audit_events can be read directly.
 */
export async function auditChained(url: string, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const [row] = await sql<{ n: number }>(url, 'select count(*)::int as n from audit_pending');
    if (row!.n === 0) return;
    if (Date.now() > until) throw new Error(`${row!.n} audit entries were still not chained after ${timeoutMs / 1000} s (is a controller running?)`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * What "every run ended exactly once" means, read from the database: the runs of `managedIds` (one each),
 * the terminal audit entries per run, CA records per run and deploy jobs per deploy id. Returns the
 * problems found (empty when all is well) so a failure names them all at once.
 */
export async function exactlyOnceProblems(dbUrl: string, managedIds: string[], expected: Record<string, string>): Promise<string[]> {
  const problems: string[] = [];
  const runs = await sql<RunRecord>(dbUrl, 'select id, managed_certificate_id, state, error from workflow_runs where managed_certificate_id = any($1::uuid[])', [managedIds]);
  for (const id of managedIds) {
    const mine = runs.filter((r) => r.managed_certificate_id === id);
    if (mine.length !== 1) problems.push(`certificate ${id} has ${mine.length} runs`);
    else if (mine[0]!.state !== expected[id]) problems.push(`run ${mine[0]!.id} ended ${mine[0]!.state}, expected ${expected[id]}${mine[0]!.error ? `: ${mine[0]!.error}` : ''}`);
  }
  const runIds = runs.map((r) => r.id);
  // A run that succeeded went through every stage once, each succeeded or skipped (none failed and retried into success).
  const stages = await sql<{ run_id: string; stages: string[] }>(dbUrl,
    `select run_id, array_agg(stage || '=' || state order by seq) as stages from workflow_stages where run_id = any($1::uuid[]) group by run_id`, [runIds]);
  for (const run of runs.filter((r) => r.state === 'succeeded')) {
    const seen = stages.find((s) => s.run_id === run.id)?.stages ?? [];
    const names = seen.map((s) => s.split('=')[0]);
    if (names.join(',') !== SUCCEEDED_STAGES.join(',') || seen.some((s) => !/=(succeeded|skipped)$/.test(s))) problems.push(`run ${run.id} went through [${seen.join(', ')}]`);
  }
  await auditChained(dbUrl);
  const endings = await sql<{ target_id: string; actions: string[] }>(dbUrl,
    `select target_id, array_agg(action order by seq) as actions from audit_events
      where target_type = 'workflow_run' and action in ('run.succeeded', 'run.failed', 'run.rolled-back', 'run.cancelled', 'run.rejected')
        and target_id = any($1::text[]) group by target_id`, [runIds]);
  for (const run of runs) {
    const actions = endings.find((e) => e.target_id === run.id)?.actions ?? [];
    if (actions.length !== 1 || actions[0] !== `run.${run.state}`) problems.push(`run ${run.id} (${run.state}) has terminal audit entries [${actions.join(', ')}]`);
  }
  const issuedAudit = await sql<{ target_id: string; n: number }>(dbUrl,
    `select target_id, count(*)::int as n from audit_events where action = 'certificate.issued' and target_id = any($1::text[]) group by target_id`, [runIds]);
  const records = await sql<{ run_id: string; n: number; signed: number }>(dbUrl,
    `select split_part(idempotency_key, ':', 1) as run_id, count(*)::int as n, count(certificate_pem)::int as signed
       from issued_certificates group by 1`);
  for (const run of runs) {
    const record = records.find((r) => r.run_id === run.id);
    if (!record || record.n !== 1 || record.signed !== 1) problems.push(`run ${run.id} has ${record?.n ?? 0} CA records (${record?.signed ?? 0} signed), expected 1`);
    const audited = issuedAudit.find((a) => a.target_id === run.id)?.n ?? 0;
    if (audited !== 1) problems.push(`run ${run.id} has ${audited} certificate.issued audit entries`);
  }
  const stray = await sql<{ idempotency_key: string }>(dbUrl,
    `select idempotency_key from issued_certificates where split_part(idempotency_key, ':', 1) not in (select id::text from workflow_runs)`);
  if (stray.length > 0) problems.push(`CA records of no run: ${stray.map((r) => r.idempotency_key).join(', ')}`);
  const jobs = await sql<{ run_id: string; kind: string; deploy_id: string | null; n: number }>(dbUrl,
    `select run_id, kind, payload->>'deployId' as deploy_id, count(*)::int as n from agent_jobs
      where run_id = any($1::uuid[]) group by 1, 2, 3`, [runIds]);
  for (const job of jobs) {
    if (job.n !== 1) problems.push(`run ${job.run_id} has ${job.n} ${job.kind} jobs${job.deploy_id ? ` for deploy id ${job.deploy_id}` : ''}`);
  }
  for (const run of runs) {
    if (!jobs.some((j) => j.run_id === run.id && j.kind === 'makeCsr')) problems.push(`run ${run.id} has no CSR job`);
    if (!jobs.some((j) => j.run_id === run.id && j.kind === 'deploy')) problems.push(`run ${run.id} has no deploy job`);
  }
  return problems;
}

/** How many run-ending events (run.succeeded, run.failed, run.rolled-back) JetStream holds per run id. */
export async function runEndEventsPerRun(natsUrl: string, prefix: string): Promise<Map<string, number>> {
  const s = makeSubjects(prefix);
  const nc = await connect({ servers: natsUrl, timeout: 5_000 });
  try {
    const jsm = await nc.jetstreamManager();
    const info = await jsm.streams.info(s.eventStream);
    const counts = new Map<string, number>();
    const wanted = new Set([s.event('run.succeeded'), s.event('run.failed'), s.event('run.rolled-back')]);
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const message = await jsm.streams.getMessage(s.eventStream, { seq }).catch(() => null);
      if (!message || !wanted.has(message.subject)) continue;
      const runId = (message.json() as { runId?: string }).runId ?? '?';
      counts.set(runId, (counts.get(runId) ?? 0) + 1);
    }
    return counts;
  } finally {
    await nc.close();
  }
}

export interface StageAttemptSpan {
  runId: string;
  stage: string;
  replica: number;
  lockedAt: number;
  releasedAt: number;
}

/** The runner's debug lines "stage attempt" from a controller's output (CERTFLOW_LOG_LEVEL=debug). */
export function stageAttemptSpans(output: string): StageAttemptSpan[] {
  const spans: StageAttemptSpan[] = [];
  for (const line of output.split('\n')) {
    if (!line.includes('"msg":"stage attempt"')) continue;
    try {
      spans.push(JSON.parse(line) as StageAttemptSpan);
    } catch {
      // a line cut by the kill: not a complete record
    }
  }
  return spans;
}

/** Pairs of spans of one run that overlap in time (should be none: the run's row lock is exclusive). */
export function overlappingSpans(spans: StageAttemptSpan[]): [StageAttemptSpan, StageAttemptSpan][] {
  const byRun = new Map<string, StageAttemptSpan[]>();
  for (const span of spans) byRun.set(span.runId, [...(byRun.get(span.runId) ?? []), span]);
  const overlaps: [StageAttemptSpan, StageAttemptSpan][] = [];
  for (const list of byRun.values()) {
    // Stages fused into one transaction log one line each with the transaction's span: count it once.
    const seen = new Set<string>();
    const unique = list.filter((span) => {
      const key = `${span.replica}:${span.lockedAt}:${span.releasedAt}`;
      return !seen.has(key) && seen.add(key);
    });
    list.splice(0, list.length, ...unique);
    list.sort((a, b) => a.lockedAt - b.lockedAt);
    for (let i = 1; i < list.length; i++) {
      if (list[i]!.lockedAt < list[i - 1]!.releasedAt) overlaps.push([list[i - 1]!, list[i]!]);
    }
  }
  return overlaps;
}
