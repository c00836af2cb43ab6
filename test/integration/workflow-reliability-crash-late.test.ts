// Kill -9 of the controller at the boundaries and in the middle of rollback, notify, validate, deploy and approve-deploy,
// one failpoint per controller life (the lives, the checks and why: test/support/crash-lives.ts). Split
// from workflow-reliability-crash-early.test.ts so the two halves run side by side. Latest stage first: a
// run left by the previous life has then already passed the next life's failpoint, so mostly the
// certificate declared in a life is the one that reaches it (a run resuming a stage may still get there
// first: that is a kill at the same instant, of another run).
import { describeCrashLives, type Life } from '../support/crash-lives.js';

const LIVES: Life[] = [
  {
    failpoint: 'rollback:after-handler:done', kind: 'rolls-back',
    witness: `select count(*)::int as n from agent_jobs j join workflow_stages s on s.run_id = j.run_id and s.stage = 'rollback'
               where j.kind = 'rollback' and j.state = 'succeeded' and s.state <> 'succeeded'`,
  },
  // run.succeeded is committed; the message is not acked and the event not yet published.
  { failpoint: 'notify:after-commit', kind: 'renews' },
  { failpoint: 'notify:after-handler', kind: 'renews' },
  { failpoint: 'validate:after-commit', kind: 'renews' },
  { failpoint: 'validate:before-handler', kind: 'renews' },
  { failpoint: 'deploy:after-commit:done', kind: 'renews' },
  // The agent deployed and answered, the stage did not commit: nothing may be deployed a second time.
  {
    failpoint: 'deploy:after-handler:done', kind: 'renews',
    witness: `select count(*)::int as n from agent_jobs j join workflow_stages s on s.run_id = j.run_id and s.stage = 'deploy'
               where j.kind = 'deploy' and j.state = 'succeeded' and s.state <> 'succeeded'`,
  },
  // The deploy job is committed, the agent not yet woken: it must still get the job, once.
  { failpoint: 'deploy:after-commit:wait', kind: 'renews' },
  { failpoint: 'approve-deploy:after-commit', kind: 'renews' },
  { failpoint: 'approve-deploy:after-handler', kind: 'renews' },
];

describeCrashLives('workflow: controller SIGKILLed in rollback, notify, validate, deploy and approve-deploy', LIVES);
