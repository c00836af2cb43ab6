// certflowctl's workflow commands (managed, runs, approvals) as an operator runs them: child processes
// talking HTTP to a real controller (Postgres, NATS JetStream, the built-in CA) with a real agent on
// this host deploying to file targets.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, repoRoot, type ControllerProcess } from '../support/processes.js';
import { startWorkflowStack, type WorkflowStack } from '../support/workflow-stack.js';
import { apiJson, createTemplate, createToken, FAST_WORKFLOW_ENV } from '../support/workflow.js';

let stack: WorkflowStack;
let controller: ControllerProcess;
let agentId = '';
let dir = '';
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** certflowctl in a child process, logged in through CERTFLOW_URL/CERTFLOW_TOKEN (admin unless `token`). */
function certflowctl(args: string[], token?: string): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = {
    ...process.env, CERTFLOW_URL: controller.apiUrl, CERTFLOW_TOKEN: token ?? controller.adminToken,
    CERTFLOWCTL_CONFIG: join(dir, 'no-saved-login.json'),
  };
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'controller/src/cli/main.ts', ...args], { cwd: repoRoot, env, timeout: 90_000 },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }));
  });
}

async function ok(args: string[], token?: string): Promise<string> {
  const result = await certflowctl(args, token);
  if (result.code !== 0) throw new Error(`certflowctl ${args.join(' ')} exited ${result.code}: ${result.stderr}${result.stdout}`);
  return result.stdout;
}

/** The id of the certificate's newest run, once there is one. */
async function newestRun(managedId: string): Promise<{ id: string; state: string }> {
  return eventually(async () => (JSON.parse(await ok(['runs', 'list', '--certificate', managedId, '--limit', '1', '--json'])) as { items: { id: string; state: string }[] }).items[0], 20_000, 'a run');
}

beforeAll(async () => {
  stack = await startWorkflowStack({ env: FAST_WORKFLOW_ENV, dirPrefix: 'certflowctl-wf-' });
  ({ controller, agentId, dir } = stack);
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

// One certificate goes through everything, so the tests run in order.
describe.sequential('certflowctl managed, runs and approvals', () => {
  let managedId = '';
  let firstRunId = '';
  let alice = { id: '', token: '' };

  it('declares a certificate from the command line; its first run is watched to the end and shown stage by stage', async () => {
    const targets = join(dir, 'targets.json');
    await writeFile(targets, JSON.stringify([{ agentId, kind: 'file', options: { certificatePath: join(dir, 'cli.pem'), keyPath: join(dir, 'cli.key') } }]));
    const declared = await ok(['managed', 'declare', 'cli.example', '--dns', 'cli.example', '--dns', 'www.cli.example', '--target-file', targets, '--label', 'team=web']);
    expect(declared).toMatch(/^declared managed certificate [0-9a-f-]{36} \("cli\.example", template default, 1 target\)\n$/);
    managedId = UUID.exec(declared)![0];

    // Declared certificates are due at once: the scheduler starts the run.
    firstRunId = (await newestRun(managedId)).id;
    const watched = await certflowctl(['runs', 'watch', firstRunId, '--interval', '0.2']);
    expect(watched.stderr).toBe('');
    expect(watched.code).toBe(0);
    expect(watched.stdout).toMatch(/issue\s+succeeded\s+attempt \d/);
    expect(watched.stdout).toMatch(/deploy\s+succeeded/);
    expect(watched.stdout).toMatch(new RegExp(`run ${firstRunId} succeeded after \\d`));
    expect(existsSync(join(dir, 'cli.pem'))).toBe(true);

    const shown = await ok(['runs', 'show', firstRunId]);
    expect(shown).toMatch(/State:\s+succeeded/);
    expect(shown).toMatch(/^STAGE\s+STATE\s+ATTEMPTS\s+ELAPSED\s+ACTIVE\s+ERROR$/m);
    for (const stage of ['discover', 'trigger', 'select-ca', 'issue', 'deploy', 'validate', 'notify']) {
      expect(shown).toMatch(new RegExp(`^${stage}\\s+succeeded\\s+\\d+\\s+[\\d.]+ m?s\\s+[\\d.]+ m?s$`, 'm'));
    }
    expect(shown).toMatch(/^approve-issue\s+skipped/m);
    const json = JSON.parse(await ok(['runs', 'show', firstRunId, '--json'])) as { stages: { stage: string; attempts: number; history: unknown[] }[]; context: object };
    const issue = json.stages.find((s) => s.stage === 'issue')!;
    expect(issue.history.length).toBe(issue.attempts);
    expect(json.context).toBeTypeOf('object');
  }, 120_000);

  it('lists and shows managed certificates and runs, with filters', async () => {
    const list = await ok(['managed', 'list', '--q', 'cli']);
    expect(list).toMatch(/^ID\s+NAME\s+TEMPLATE\s+STATE\s+NOT AFTER\s+RENEW AFTER\s+LAST RUN\s+FAILURES$/m);
    expect(list).toMatch(new RegExp(`^${managedId}\\s+cli\\.example\\s+default\\s+active\\s+\\d{4}-\\d\\d-\\d\\d\\s+\\d{4}-\\d\\d-\\d\\d\\s+succeeded\\s+0$`, 'm'));
    expect(await ok(['managed', 'list', '--state', 'paused'])).toBe('No managed certificates found.\n');
    const shown = await ok(['managed', 'show', managedId]);
    expect(shown).toMatch(/DNS names:\s+cli\.example, www\.cli\.example/);
    expect(shown).toMatch(/Labels:\s+team=web/);
    expect(shown).toMatch(new RegExp(`${agentId}\\s+file\\s+\\{"`));
    const runs = await ok(['runs', 'list', '--certificate', managedId]);
    expect(runs).toMatch(new RegExp(`^${firstRunId}\\s+cli\\.example\\s+succeeded\\s+notify\\s+scheduled\\s+`, 'm'));
    expect(await ok(['runs', 'list', '--active', '--certificate', managedId])).toBe('No runs found.\n');
  });

  it('renews now (printing the run id), pauses and resumes; a paused certificate is not renewed, and says why', async () => {
    const renewed = await ok(['managed', 'renew', managedId]);
    expect(renewed).toMatch(new RegExp(`^${UUID.source}\\n$`));
    const runId = renewed.trim();
    expect(runId).not.toBe(firstRunId);
    expect((await certflowctl(['runs', 'watch', runId, '--interval', '0.2'])).code).toBe(0);
    const again = await certflowctl(['runs', 'retry', runId]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^certflowctl: Conflict: /);

    expect(await ok(['managed', 'pause', managedId])).toBe(`managed certificate ${managedId} ("cli.example") is now paused\n`);
    const refused = await certflowctl(['managed', 'renew', managedId]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe('certflowctl: Conflict: the certificate is paused; resume it first\n');
    expect(await ok(['managed', 'resume', managedId])).toContain('is now active');
  }, 90_000);

  it('approvals: the requester cannot approve its own run (the API says why, exit 1); another approver can; bypass is for admins with a reason', async () => {
    const requester = await createToken(controller, 'cli-requester', 'operator');
    alice = await createToken(controller, 'cli-alice', 'approver');
    await createTemplate(controller, 'cli-gated', {
      approval: { gates: [{ before: 'deploy', levels: [{ name: 'owners', approvers: { tokens: [alice.id, requester.id] }, required: 1 }] }] },
    });
    await apiJson(controller, `/api/v1/managed-certificates/${managedId}`, { method: 'PATCH', body: JSON.stringify({ template: 'cli-gated' }) }, 200);

    const runId = (await ok(['managed', 'renew', managedId], requester.token)).trim();
    const pending = await eventually(async () => {
      const list = JSON.parse(await ok(['approvals', 'list', '--run', runId, '--json'])) as { items: { id: string; state: string }[] };
      return list.items.find((a) => a.state === 'pending');
    }, 30_000, 'a pending approval');
    const table = await ok(['approvals', 'list']);
    expect(table).toMatch(new RegExp(`^${pending.id}\\s+${runId}\\s+cli\\.example\\s+deploy\\s+1 owners\\s+pending\\s+0/1\\s+token:`, 'm'));
    expect(await ok(['runs', 'show', runId])).toMatch(/Approvals:\nID\s+GATE\s+LEVEL/);

    const own = await certflowctl(['approvals', 'approve', pending.id], requester.token);
    expect(own.code).toBe(1);
    expect(own.stdout).toBe('');
    expect(own.stderr).toMatch(/^certflowctl: Permission denied: .*requester/);

    const noReason = await certflowctl(['approvals', 'bypass', pending.id]);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toContain('bypass needs --comment');
    const notAdmin = await certflowctl(['approvals', 'bypass', pending.id, '--comment', 'outage'], alice.token);
    expect(notAdmin.code).toBe(1);
    expect(notAdmin.stderr).toContain('only an admin can bypass an approval');

    const approved = await ok(['approvals', 'approve', pending.id, '--comment', 'looks right'], alice.token);
    expect(approved).toBe(`approved level 1 "owners" of run ${runId}: the level is now approved\n`);
    const twice = await certflowctl(['approvals', 'approve', pending.id], alice.token);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/^certflowctl: Conflict: (this approval level is already approved|the run is already succeeded)\n$/);
    expect((await certflowctl(['runs', 'watch', runId, '--interval', '0.2'])).code).toBe(0);

    // The next run is bypassed by an admin, with the reason recorded on the decision.
    const bypassRun = (await ok(['managed', 'renew', managedId], requester.token)).trim();
    const next = await eventually(async () => (JSON.parse(await ok(['approvals', 'list', '--run', bypassRun, '--json'])) as { items: { id: string }[] }).items[0], 30_000, 'the next approval');
    expect(await ok(['approvals', 'bypass', next.id, '--comment', 'emergency: outage'])).toContain('the level is now bypassed');
    const decided = JSON.parse(await ok(['approvals', 'list', '--state', 'bypassed', '--json'])) as { items: { id: string; decisions: { decision: string; comment: string }[] }[] };
    expect(decided.items.find((a) => a.id === next.id)!.decisions).toEqual([expect.objectContaining({ decision: 'bypass', comment: 'emergency: outage' })]);
    expect((await certflowctl(['runs', 'watch', bypassRun, '--interval', '0.2'])).code).toBe(0);
  }, 120_000);

  it('cancels a waiting run, and `runs watch` of it exits 1 naming how it ended; a rejection ends the next one', async () => {
    const runId = (await ok(['managed', 'renew', managedId])).trim();
    await eventually(async () => (JSON.parse(await ok(['runs', 'show', runId, '--json'])) as { state: string }).state === 'waiting-approval', 30_000, 'waiting-approval');
    const cancelled = await ok(['runs', 'cancel', runId]);
    expect(cancelled).toBe(`run ${runId} cancelled: now cancelled (stage approve-deploy)\n`);
    const watched = await certflowctl(['runs', 'watch', runId]);
    expect(watched.code).toBe(1);
    expect(watched.stdout).toContain(`run ${runId} cancelled after`);
    expect(watched.stderr).toBe(`certflowctl: run ${runId} ended cancelled\n`);

    const next = (await ok(['managed', 'renew', managedId])).trim();
    const approval = await eventually(async () => (JSON.parse(await ok(['approvals', 'list', '--run', next, '--json'])) as { items: { id: string }[] }).items[0], 30_000, 'an approval');
    expect(await ok(['approvals', 'reject', approval.id, '--comment', 'not now'], alice.token)).toContain('the level is now rejected');
    const rejected = await certflowctl(['runs', 'watch', next, '--json', '--interval', '0.2']);
    expect(rejected.code).toBe(1);
    const lines = rejected.stdout.trim().split('\n').map((l) => JSON.parse(l) as { state: string; stage?: string });
    expect(lines.at(-1)!.state).toBe('rejected');
    expect(lines.some((l) => l.stage === 'approve-deploy')).toBe(true);
  }, 90_000);

  it('exits 2 on command lines it cannot run, and 1 with the API reason on refusals', async () => {
    const noDns = await certflowctl(['managed', 'declare', 'x.example', '--target-file', '/nonexistent']);
    expect(noDns.code).toBe(2);
    expect(noDns.stderr).toContain('at least one --dns NAME is required');
    const badLabel = await certflowctl(['managed', 'adopt', 'ab'.repeat(32), '--label', 'novalue']);
    expect(badLabel.code).toBe(2);
    const unknownCert = await certflowctl(['managed', 'adopt', 'ab'.repeat(32)]);
    expect(unknownCert.code).toBe(1);
    expect(unknownCert.stderr).toMatch(/^certflowctl: Not found: no certificate a?b.* in the inventory\n$/);
    const missingRun = await certflowctl(['runs', 'show', '00000000-0000-4000-8000-000000000000']);
    expect(missingRun.code).toBe(1);
    expect(missingRun.stderr).toContain('Not found');
    expect((await certflowctl(['runs', 'frob', 'x'])).code).toBe(2);
    const badState = await certflowctl(['runs', 'list', '--state', 'sleeping']);
    expect(badState.code).toBe(1);
    expect(badState.stderr).toContain('Invalid request');
  }, 60_000);
});
