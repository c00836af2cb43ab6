// Issuance against one Pebble (the real RFC 8555 test CA from Debian; PEBBLE_VA_NOSLEEP=1 and
// PEBBLE_AUTHZREUSE=0, so every order validates again, without Pebble's random sleeps), in one run:
//   1. the floor: a bare acme-client loop (http-01 answered in-process) issuing N certificates at each
//      concurrency of --concurrencies; the best one is the floor;
//   2. lego and certbot (Debian packages) issuing --tool-n certificates each, one process after the other
//      (each answers http-01 itself on Pebble's one httpPort), after one unmeasured certificate that
//      registers their account (certflow's and the floor's accounts are registered outside the timing too);
//   3. certflow's whole issue stage: N managed certificates due at once, key and CSR made by a real agent,
//      through select-ca and issue of a real controller (issuance-certflow.ts says how).
// Printed: certificates/s of each and the ratios issue 5 asks about (certflow ≥ 5× lego, certflow within
// 1.5× of the floor). No assertions on time; failures are counted and the first one printed.
//
//   npm run bench -- issuance [--n 200] [--tool-n 20] [--concurrencies 1,4,16,32] [--agents 1]
//                             [--workflow-concurrency N] [--max-orders N] [--env NAME=VALUE ...] [--skip-tools]
//                             [--challenge http-01|dns-01] [--skip-floor] [--replicas N]
// --skip-floor measures the floor at the last of --concurrencies only (to try certflow settings quickly).
// --replicas runs that many controller replicas on one database and NATS prefix (how certflow scales out);
// the agent holds its stream on the first, and jobs the others create reach it through NATS wake-ups.
// --env sets the controller's environment; --env CERTFLOW_CPU_PROFILE_DIR=/tmp/prof makes it write a V8 CPU
// profile there when it stops (where the controller's time goes).
// certflow answers http-01 through its agent by default (one agent: Pebble validates on one port);
// --challenge dns-01 uses the exec-hook DNS provider instead (and --agents then applies).
// --max-orders (the CA's maxConcurrentOrders) defaults to the floor's best concurrency, and
// --workflow-concurrency to twice that (stage handlers waiting on the CA hold a slot each), at most 40.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startPebble } from '../support/pebble.js';
import { benchCertflow } from './issuance-certflow.js';
import { certbotClient, ensureCliClients, legoClient, perSecond, POLL_MAX_MS, POLL_MIN_MS, startFloorClient, type Measured } from './issuance-clients.js';

const { values: args } = parseArgs({
  options: {
    n: { type: 'string', default: '200' },
    'tool-n': { type: 'string', default: '20' },
    concurrencies: { type: 'string', default: '1,4,16,32' },
    agents: { type: 'string', default: '1' },
    replicas: { type: 'string', default: '1' },
    challenge: { type: 'string', default: 'http-01' },
    'workflow-concurrency': { type: 'string' },
    'max-orders': { type: 'string' },
    env: { type: 'string', multiple: true, default: [] },
    'skip-tools': { type: 'boolean', default: false },
    'skip-floor': { type: 'boolean', default: false },
    timeout: { type: 'string', default: '900' },
  },
});
const N = Number(args.n);
const TOOL_N = Number(args['tool-n']);
const CONCURRENCIES = args.concurrencies.split(',').map(Number);
if (args.challenge !== 'http-01' && args.challenge !== 'dns-01') throw new Error('--challenge is http-01 or dns-01');
const CHALLENGE = args.challenge;

const rate = (m: Measured) => `${perSecond(m).toFixed(2)} certificates/s`;
const line = (label: string, m: Measured, extra = '') =>
  console.log(`${label.padEnd(34)} ${String(m.issued).padStart(4)} issued, ${String(m.failed).padStart(3)} failed in ${m.seconds.toFixed(1).padStart(6)} s: ${rate(m).padStart(20)}${extra}`
    + `${m.firstError ? `\n${' '.repeat(36)}first failure: ${m.firstError}` : ''}`);
const names = (what: string, count: number) => Array.from({ length: count }, (_, i) => `${what}-${i}.bench.test`);

const pebble = await startPebble();
const dir = await mkdtemp(join(tmpdir(), 'certflow-bench-issuance-'));
let failed = false;
try {
  console.log(`Pebble ${pebble.directoryUrl} (PEBBLE_VA_NOSLEEP=1, PEBBLE_AUTHZREUSE=0: real validation of every order); `
    + `http-01 on 127.0.0.1:${pebble.httpChallengePort}; client polling ${POLL_MIN_MS} ms → ${POLL_MAX_MS} ms as certflow's ACME issuer`);

  // 1. The floor.
  console.log(`\nbare acme-client loop, ${N} certificates, http-01 answered in-process:`);
  const floorClient = await startFloorClient(pebble);
  const floors: { concurrency: number; m: Measured }[] = [];
  try {
    for (const concurrency of args['skip-floor'] ? CONCURRENCIES.slice(-1) : CONCURRENCIES) {
      const m = await floorClient.issueAll(names(`floor-c${concurrency}`, N), concurrency);
      floors.push({ concurrency, m });
      line(`  concurrency ${concurrency}`, m);
      if (m.failed) failed = true;
    }
  } finally {
    await floorClient.close();
  }
  const floor = floors.reduce((best, f) => (perSecond(f.m) > perSecond(best.m) ? f : best));
  console.log(`  floor: ${rate(floor.m)} at concurrency ${floor.concurrency}`);

  // 2. lego and certbot, one at a time.
  const tools: Record<string, Measured> = {};
  if (!args['skip-tools']) {
    const missing = ensureCliClients();
    if (missing.length) console.log(`\n${missing.join(' and ')} not installed (apt-get install -y lego certbot, as root): skipped`);
    for (const make of [legoClient, certbotClient]) {
      const client = await make(pebble, dir);
      if (missing.includes(client.name)) continue;
      console.log(`\n${client.name}, ${TOOL_N} certificates one after the other, http-01 on its own listener:`);
      const warmUp = await client.issueAll(names(`${client.name}-account`, 1));
      if (warmUp.failed) console.log(`  first certificate (registers the account, not measured) failed: ${warmUp.firstError}`);
      const m = await client.issueAll(names(client.name, TOOL_N));
      tools[client.name] = m;
      line(`  ${client.name}`, m, `, ${(m.seconds / Math.max(1, m.issued + m.failed)).toFixed(2)} s a certificate`);
      if (m.failed) failed = true;
    }
  }

  // 3. certflow.
  // Per replica: with several, the CA's order limit and the stage handlers are split between them, so the
  // whole certflow has the floor's concurrency (and the replicas' pools fit in one Postgres).
  const replicas = Number(args.replicas);
  const maxOrders = Number(args['max-orders'] ?? Math.ceil(floor.concurrency / replicas));
  // The controller's pool is 2 connections a stage handler + 8: past ~45 handlers a default Postgres
  // (max_connections 100) refuses connections and runs fail with "too many clients".
  const workflowConcurrency = Number(args['workflow-concurrency'] ?? Math.ceil(Math.min(40, Math.max(16, 2 * floor.concurrency)) / replicas));
  console.log(`\ncertflow, ${N} managed certificates due at once, key and CSR made by a real agent, whole issue stage:`);
  const certflow = await benchCertflow({
    pebble, dir, names: names('certflow', N), agents: CHALLENGE === 'http-01' ? 1 : Number(args.agents), challenge: CHALLENGE, maxOrders, workflowConcurrency,
    replicas,
    env: Object.fromEntries(args.env.map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)])),
    timeoutMs: Number(args.timeout) * 1000,
  });
  console.log(`  challenge: ${certflow.challenge}`);
  console.log(`  settings: ${certflow.settings}`);
  line('  certflow (due → last issued)', certflow);
  console.log(`  all runs started ${certflow.allStartedSeconds?.toFixed(1) ?? '(never)'} s after due; issue stages from the first start to the last finish: `
    + `${certflow.issueWindowSeconds.toFixed(1)} s (${(certflow.issued / certflow.issueWindowSeconds).toFixed(2)} certificates/s); median issue stage ${Math.round(certflow.medianIssueStageMs)} ms`);
  console.log(`  certificates recorded as signed by Pebble: ${certflow.recordedByPebble}/${N}`);
  // Where the time goes: each stage's span after due, and the median time its handler calls took.
  console.log('  stage            first start  last finish (s after due)  median handler time');
  for (const s of certflow.stages) {
    console.log(`  ${s.stage.padEnd(16)} ${s.firstStart.toFixed(1).padStart(11)}  ${s.lastFinish.toFixed(1).padStart(11)}  ${`${Math.round(s.medianActiveMs)} ms`.padStart(34)}`);
  }
  if (certflow.failed || certflow.recordedByPebble !== N) failed = true;

  // The issue's targets.
  console.log('\nsummary (certificates/s):');
  console.log(`  floor (acme-client, concurrency ${floor.concurrency})`.padEnd(48) + perSecond(floor.m).toFixed(2));
  for (const [name, m] of Object.entries(tools)) console.log(`  ${name} (one at a time)`.padEnd(48) + perSecond(m).toFixed(2));
  console.log('  certflow (whole issue stage, due → issued)'.padEnd(48) + perSecond(certflow).toFixed(2));
  if (tools.lego) {
    const x = perSecond(certflow) / perSecond(tools.lego);
    console.log(`  certflow / lego: ${x.toFixed(1)}× (target ≥ 5×: ${x >= 5 ? 'met' : 'NOT met'})`);
  }
  if (tools.certbot) console.log(`  certflow / certbot: ${(perSecond(certflow) / perSecond(tools.certbot)).toFixed(1)}×`);
  const behind = perSecond(floor.m) / perSecond(certflow);
  console.log(`  floor / certflow: ${behind.toFixed(2)}× (target within 1.5×: ${behind <= 1.5 ? 'met' : 'NOT met'})`);
} finally {
  await pebble.stop();
  await rm(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
