// Kill -9 of the controller at the boundaries and in the middle of issue, approve-issue, select-ca, trigger and discover,
// one failpoint per controller life (the lives, the checks and why: test/support/crash-lives.ts). Split
// from workflow-reliability-crash-late.test.ts so the two halves run side by side. Latest stage first: a
// run left by the previous life has then already passed the next life's failpoint, so mostly the
// certificate declared in a life is the one that reaches it (a run resuming a stage may still get there
// first: that is a kill at the same instant, of another run).
import { describeCrashLives, type Life } from '../support/crash-lives.js';

const LIVES: Life[] = [
  { failpoint: 'issue:after-commit:done', kind: 'renews' },
  // The CA signed and recorded the certificate (its own transaction), the stage did not commit: the retry
  // must get the same certificate back, not a second one.
  {
    failpoint: 'issue:after-handler:done', kind: 'renews',
    witness: `select count(*)::int as n from issued_certificates c join workflow_stages s
                on s.run_id::text = split_part(c.idempotency_key, ':', 1) and s.stage = 'issue'
               where c.certificate_pem is not null and s.state <> 'succeeded'`,
  },
  // The CSR job is committed, the agent not yet woken: it must still get the job.
  { failpoint: 'issue:after-commit:wait', kind: 'renews' },
  { failpoint: 'approve-issue:after-commit', kind: 'renews' },
  { failpoint: 'approve-issue:before-handler', kind: 'renews' },
  { failpoint: 'select-ca:after-commit', kind: 'renews' },
  { failpoint: 'select-ca:after-handler', kind: 'renews' },
  { failpoint: 'trigger:after-commit', kind: 'renews' },
  { failpoint: 'trigger:after-handler', kind: 'renews' },
  { failpoint: 'discover:after-commit', kind: 'renews' },
  { failpoint: 'discover:before-handler', kind: 'renews' },
];

describeCrashLives('workflow: controller SIGKILLed in issue, approve-issue, select-ca, trigger and discover', LIVES);
