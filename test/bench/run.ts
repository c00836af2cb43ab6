// `npm run bench [-- NAME...]`: runs every test/bench/*.bench.ts (or only those named), one after the
// other in child processes, so each measures on a quiet machine. Each benchmark prints its own figures.
// Options (`--runs 100`) are passed on to every benchmark run; names are the arguments before them.
//
// Each benchmark runs in a process group of its own, with everything it starts (controllers, agents,
// Pebble, servers). When it ends, whatever it left running is killed; when this runner is stopped
// (Ctrl-C, `timeout`, SIGTERM), the group is told to stop and killed shortly after. An orphaned controller
// would otherwise keep its Postgres connections and CPU and spoil the next benchmark's figures.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** How long a stopped benchmark's group gets between SIGTERM and SIGKILL. */
const STOP_GRACE_MS = 5_000;

const dir = fileURLToPath(new URL('.', import.meta.url));
const all = readdirSync(dir).filter((f) => f.endsWith('.bench.ts')).map((f) => f.slice(0, -'.bench.ts'.length)).sort();
const firstOption = process.argv.slice(2).findIndex((arg) => arg.startsWith('--'));
const wanted = firstOption < 0 ? process.argv.slice(2) : process.argv.slice(2, 2 + firstOption);
const options = firstOption < 0 ? [] : process.argv.slice(2 + firstOption);
const unknown = wanted.filter((name) => !all.includes(name));
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; available: ${all.join(', ')}`);
  process.exit(2);
}

/** Signals the benchmark's whole process group; false when nothing of it is left. */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-child.pid!, signal);
    return true;
  } catch {
    return false; // ESRCH: the group is gone
  }
}

let current: ChildProcess | null = null;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    const child = current;
    if (!child) process.exit(130);
    console.error(`\nbench: ${signal}: stopping the running benchmark and everything it started`);
    const killAndExit = () => {
      signalGroup(child, 'SIGKILL');
      process.exit(130);
    };
    signalGroup(child, 'SIGTERM');
    setTimeout(killAndExit, STOP_GRACE_MS).unref();
    // Synchronously in the exit event, so the loop below never starts the next benchmark.
    child.once('exit', killAndExit);
  });
}

function runBenchmark(name: string): Promise<number | null> {
  return new Promise((resolve) => {
    // detached: a group of its own, so a terminal's Ctrl-C reaches this runner, which stops the group.
    const child = spawn(process.execPath, ['--import', 'tsx', `${dir}${name}.bench.ts`, ...options], { stdio: 'inherit', detached: true });
    current = child;
    child.once('error', (err) => {
      console.error(`bench ${name}: ${err.message}`);
      resolve(1);
    });
    child.once('exit', (code) => {
      // What the benchmark did not stop itself (a controller whose stop hung, a server) goes now.
      if (signalGroup(child, 'SIGKILL')) console.error(`bench ${name}: killed processes it left running`);
      current = null;
      resolve(code);
    });
  });
}

let failed = 0;
for (const name of wanted.length ? wanted : all) {
  console.log(`\n== bench: ${name}`);
  if ((await runBenchmark(name)) !== 0) failed++;
}
process.exit(failed ? 1 : 0);
