// Failpoints: named instants in the workflow runner where a reliability test can make the controller
// SIGKILL itself, to prove that a crash exactly there loses nothing and does nothing twice.
//
// TEST-ONLY. Inert unless CERTFLOW_FAILPOINTS is set, and never set it in production: a hit kills the
// process on purpose. It is read here rather than through config.ts because it is not configuration an
// operator has: it exists for the tests in test/integration/workflow-reliability*.test.ts and
// acme-crash-order-record.test.ts.
//
// CERTFLOW_FAILPOINTS is a comma-separated list of `<stage>:<point>` or `<stage>:<point>:<outcome>`
// (outcome: wait, done or fail, to pick e.g. the issue attempt that signed rather than the one that only
// sent the CSR job). The points, per stage attempt (runner.ts):
//   before-handler — the run's row is locked, the handler has not run;
//   after-handler  — the handler did its work and the outcome is written, the transaction not committed;
//   after-commit   — the outcome and the next stage's outbox row are committed, the message not acked
//                    (at a stage boundary when the outcome is done).
// And one in an issuer rather than per stage attempt (named on its own, no stage or outcome):
//   acme:after-finalize — acme-issuer.ts: the CA finalized the order (the certificate exists there),
//                    it is neither downloaded nor recorded; the order's URL is already committed
//                    (test/integration/acme-crash-order-record.test.ts).
import { writeSync } from 'node:fs';

const armed = new Set((process.env.CERTFLOW_FAILPOINTS ?? '').split(',').map((s) => s.trim()).filter(Boolean));

/** Kills this process with SIGKILL if one of `names` is armed; otherwise does nothing. */
export function failpoint(...names: string[]): void {
  if (armed.size === 0) return;
  const hit = names.find((name) => armed.has(name));
  if (!hit) return;
  // Written synchronously so the test sees which failpoint fired; no logger buffering survives SIGKILL.
  writeSync(2, `certflow failpoint ${hit}: SIGKILL\n`);
  process.kill(process.pid, 'SIGKILL');
}
