// Failpoints: named instants in the workflow runner where a reliability test can make the controller
// SIGKILL itself, to prove that a crash exactly there loses nothing and does nothing twice.
//
// TEST-ONLY. Inert unless CERTFLOW_FAILPOINTS is set, and never set it in production: a hit kills the
// process on purpose. It is read here rather than through config.ts because it is not configuration an
// operator has: it exists for the tests in test/integration/workflow-reliability*.test.ts.
//
// CERTFLOW_FAILPOINTS is a comma-separated list of `<stage>:<point>`, optionally `@<n>` to fire on the
// n-th hit in this process instead of the first (e.g. `deploy:after-handler@2`: the second deploy
// attempt, the one that sees the agent's answer). The points, per stage attempt (runner.ts):
//   before-handler — the run's row is locked, the handler has not run;
//   after-handler  — the handler did its work and the outcome is written, the transaction not committed;
//   after-commit   — the outcome and the next stage's outbox row are committed, the message not acked.
import { writeSync } from 'node:fs';

const armed = parseFailpoints(process.env.CERTFLOW_FAILPOINTS);
const hits = new Map<string, number>();

export function parseFailpoints(spec: string | undefined): Map<string, number> {
  const points = new Map<string, number>();
  for (const item of (spec ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const [name, nth] = item.split('@');
    points.set(name!, nth ? Math.max(1, Number.parseInt(nth, 10) || 1) : 1);
  }
  return points;
}

/** Kills this process with SIGKILL if `name` is armed and this is its n-th hit; otherwise does nothing. */
export function failpoint(name: string): void {
  if (armed.size === 0) return;
  const nth = armed.get(name);
  if (nth === undefined) return;
  const count = (hits.get(name) ?? 0) + 1;
  hits.set(name, count);
  if (count < nth) return;
  // Written synchronously so the test sees which failpoint fired; no logger buffering survives SIGKILL.
  writeSync(2, `certflow failpoint ${name}: SIGKILL\n`);
  process.kill(process.pid, 'SIGKILL');
}
