// Deploy + validate time against real nginx: (1) one nginx target, deployed again and again; (2) 50 targets
// fanned out over simulated hosts: 10 nginx instances (the hosts) × 5 server blocks on their own ports, each
// target its own deploy, the deploys of one host one after the other (as one agent runs them) and the
// hosts in parallel, at most BENCH_CONCURRENCY at a time. Validation uses the defaults (10 attempts, waits from 50 ms doubling to 300 ms).
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDeployTarget } from '../../agent/src/deploy/create-target.js';
import { deploy, type DeployResult } from '../../agent/src/deploy/deploy.js';
import { fullChainPem } from '../../agent/src/deploy/pem-bundle.js';
import { issueLeaf, makePki, type IssuedLeaf, type TestPki } from '../support/deploy-pki.js';
import { deployEnvironment, startNginx, writeNginx } from '../support/deploy-servers.js';
import { freePort } from '../support/free-port.js';
import { stopDaemons, type Daemon } from '../support/real-servers.js';

const SINGLE_RUNS = Number(process.env.BENCH_DEPLOY_RUNS ?? 10);
const HOSTS = Number(process.env.BENCH_HOSTS ?? 10);
const TARGETS_PER_HOST = Number(process.env.BENCH_TARGETS_PER_HOST ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 10);

interface Host {
  base: string;
  conf: string;
  sites: { name: string; port: number }[];
}

const daemons: Daemon[] = [];
const root = await mkdtemp(join(tmpdir(), 'certflow-bench-deploy-'));
const takenPorts = new Set<number>();

/** freePort can hand out a port twice before anything binds it; with 55 ports that happens: skip repeats. */
async function uniquePort(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (!takenPorts.has(port)) {
      takenPorts.add(port);
      return port;
    }
  }
}

async function startHost(index: number, sites: number, pki: TestPki): Promise<Host> {
  const base = join(root, `host-${index}`);
  await mkdir(join(base, 'ssl'), { recursive: true });
  const list: Host['sites'] = [];
  for (let s = 0; s < sites; s++) {
    const name = `site${s}.host${index}.bench`;
    const leaf = await issueLeaf(pki, [name]);
    await writeFile(join(base, 'ssl', `${name}.crt`), fullChainPem(leaf));
    await writeFile(join(base, 'ssl', `${name}.key`), leaf.keyPem, { mode: 0o600 });
    list.push({ name, port: await uniquePort() });
  }
  const conf = await writeNginx(base, list.map((s) => ({
    port: s.port, serverNames: [s.name], certificatePath: join(base, 'ssl', `${s.name}.crt`), keyPath: join(base, 'ssl', `${s.name}.key`),
  })));
  daemons.push(await startNginx(base, conf, list[0].port));
  return { base, conf, sites: list };
}

async function deployOne(host: Host, site: Host['sites'][number], leaf: IssuedLeaf, pki: TestPki): Promise<DeployResult> {
  const env = await deployEnvironment({ allowedPaths: [join(host.base, 'ssl')], serviceConfigFiles: [host.conf] });
  const target = await createDeployTarget({
    kind: 'nginx', configFile: host.conf, prefix: host.base, expectedNames: [site.name],
    certificatePath: join(host.base, 'ssl', `${site.name}.crt`), keyPath: join(host.base, 'ssl', `${site.name}.key`),
  }, env);
  const result = await deploy([target], leaf, {
    env, stateDir: join(host.base, 'state'), endpoints: [{ host: '127.0.0.1', port: site.port, serverName: site.name }],
    caRoots: [pki.rootPem], signal: AbortSignal.timeout(60_000),
  });
  if (result.status !== 'deployed') console.error(`deploy to ${site.name} ended ${result.status}: ${'reason' in result ? result.reason : ''}`);
  return result;
}

/** Runs `work` over `items` with at most `limit` in flight. */
async function mapBounded<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]);
    }
  }));
  return results;
}

const quantile = (values: number[], q: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))];
const ms = (n: number) => `${Math.round(n)} ms`;

function stepMedians(results: DeployResult[]): string {
  const steps = new Map<string, number[]>();
  for (const r of results) for (const s of r.steps) steps.set(s.step, [...(steps.get(s.step) ?? []), s.ms]);
  return [...steps].map(([step, values]) => `${step} ${quantile(values, 0.5)}`).join(', ');
}

try {
  execFileSync('nginx', ['-v'], { stdio: 'pipe' });
  const pki = await makePki(join(root, 'pki'));

  // (1) One nginx target.
  const single = await startHost(0, 1, pki);
  const singleResults: DeployResult[] = [];
  for (let i = 0; i < SINGLE_RUNS; i++) {
    const leaf = await issueLeaf(pki, [single.sites[0].name]);
    singleResults.push(await deployOne(single, single.sites[0], leaf, pki));
  }
  const singleTimes = singleResults.map((r) => r.totalMs);

  // (2) 50 targets fanned out over simulated hosts.
  // One after the other: started in parallel, one nginx could take a port another was given.
  const hosts: Host[] = [];
  for (let i = 1; i <= HOSTS; i++) hosts.push(await startHost(i, TARGETS_PER_HOST, pki));
  const leaves = new Map<string, IssuedLeaf>();
  for (const host of hosts) for (const site of host.sites) leaves.set(site.name, await issueLeaf(pki, [site.name]));
  const started = performance.now();
  const perHost = await mapBounded(hosts, CONCURRENCY, async (host) => {
    const results: DeployResult[] = [];
    for (const site of host.sites) results.push(await deployOne(host, site, leaves.get(site.name)!, pki));
    return results;
  });
  const fanOutWall = performance.now() - started;
  const fanOut = perHost.flat();
  const fanOutTimes = fanOut.map((r) => r.totalMs);
  const notDeployed = [...singleResults, ...fanOut].filter((r) => r.status !== 'deployed').length;

  console.log([
    `one nginx target, deploy + validate (${SINGLE_RUNS} runs):  median ${ms(quantile(singleTimes, 0.5))}  p95 ${ms(quantile(singleTimes, 0.95))}  min ${ms(Math.min(...singleTimes))}`,
    `  step medians (ms): ${stepMedians(singleResults)}`,
    `${fanOut.length} nginx targets on ${HOSTS} simulated hosts × ${TARGETS_PER_HOST}, ${Math.min(CONCURRENCY, HOSTS)} hosts at a time:  total ${ms(fanOutWall)}  ` +
      `per deploy median ${ms(quantile(fanOutTimes, 0.5))}  p95 ${ms(quantile(fanOutTimes, 0.95))}  (${(fanOut.length / (fanOutWall / 1000)).toFixed(1)} deploys/s)`,
    `  step medians (ms): ${stepMedians(fanOut)}`,
    `deploys not ending "deployed": ${notDeployed}`,
  ].join('\n'));
  if (notDeployed > 0) process.exitCode = 1;
} finally {
  await stopDaemons(daemons);
  await rm(root, { recursive: true, force: true, maxRetries: 3 });
}
