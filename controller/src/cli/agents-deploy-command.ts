// certflowctl agents deploy ID --key-id K --cert FILE [--chain FILE] --targets FILE [--endpoints HOST:PORT[/NAME],...]
//   [--roots FILE] [--manual-rollback] [--deploy-id ID]
// Sends a deploy job for a key the agent made (agents csr), waits for the agent's answer (up to two minutes)
// and prints what it did: the files changed per target, what each endpoint served, whether it rolled back.
import { readFile } from 'node:fs/promises';
import { CliError, UsageError } from './cli-errors.js';
import { apiClient, parseCommand, printJson, type CommandContext } from './command.js';

export const AGENTS_DEPLOY_USAGE = 'usage: certflowctl agents deploy ID --key-id KEY --cert FILE [--chain FILE] --targets FILE.json\n'
  + '         [--endpoints HOST:PORT[/SERVERNAME][,...]] [--roots FILE] [--manual-rollback] [--deploy-id ID] [--json]\n'
  + '  --targets: a JSON array of {"kind": "nginx|apache|haproxy|file|pkcs12", "options": {...}} (the agent\'s own target options)';

interface EndpointCheck {
  endpoint: { host: string; port: number; serverName: string };
  ok: boolean;
  failure: string;
  reason: string;
  servedFingerprintSha256: string;
}

interface DeployOutput {
  deployId: string;
  status: string;
  reason: string;
  failedStep: string;
  targets: { targetId: string; changedFiles: string[]; unchangedFiles: string[] }[];
  validations: EndpointCheck[];
  rolledBack: boolean;
  repeated: boolean;
  totalMs: number;
}

interface JobDetail {
  state: string;
  error: string | null;
  result: { deploy?: DeployOutput } | null;
}

function parseEndpoints(list: string | undefined): { host: string; port: number; serverName?: string }[] {
  return (list ?? '').split(',').map((s) => s.trim()).filter(Boolean).map((item) => {
    const match = /^(\[[0-9a-fA-F:.]+\]|[^:/\s]+):(\d{1,5})(?:\/(\S+))?$/.exec(item);
    if (!match) throw new UsageError(`--endpoints: "${item}" is not HOST:PORT[/SERVERNAME]`, AGENTS_DEPLOY_USAGE);
    return { host: match[1].replace(/^\[|\]$/g, ''), port: Number(match[2]), ...(match[3] ? { serverName: match[3] } : {}) };
  });
}

async function readText(option: string, path: string | undefined): Promise<string | undefined> {
  if (path === undefined) return undefined;
  return readFile(path, 'utf8').catch((err: Error) => {
    throw new CliError(`--${option}: cannot read ${path}: ${err.message}`);
  });
}

export async function deployToAgent(args: string[], ctx: CommandContext): Promise<void> {
  const parsed = parseCommand(args, {
    usage: AGENTS_DEPLOY_USAGE, positionals: ['ID'], strings: ['key-id', 'cert', 'chain', 'targets', 'endpoints', 'roots', 'deploy-id'], booleans: ['manual-rollback'],
  });
  const { strings } = parsed;
  if (!strings['key-id'] || !strings.cert || !strings.targets) throw new UsageError('--key-id, --cert and --targets are required', AGENTS_DEPLOY_USAGE);
  let targets: unknown;
  try {
    targets = JSON.parse((await readText('targets', strings.targets))!);
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`--targets: ${strings.targets} is not JSON: ${(err as Error).message}`);
  }
  const client = apiClient(parsed, ctx);
  const queued = await client.post<{ jobId: string; deployId: string }>(`/api/v1/agents/${encodeURIComponent(parsed.positionals[0])}/deploy`, {
    keyId: strings['key-id'],
    certificatePem: await readText('cert', strings.cert),
    chainPem: (await readText('chain', strings.chain)) ?? '',
    targets,
    endpoints: parseEndpoints(strings.endpoints),
    ...(strings.roots ? { trustedRootsPem: await readText('roots', strings.roots) } : {}),
    rollbackOnFailure: !parsed.booleans['manual-rollback'],
    ...(strings['deploy-id'] ? { deployId: strings['deploy-id'] } : {}),
  });
  let job: JobDetail | null = null;
  for (const until = Date.now() + 120_000; Date.now() < until;) {
    job = await client.get<JobDetail>(`/api/v1/agent-jobs/${queued.jobId}`);
    if (job.state === 'succeeded' || job.state === 'failed') break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  if (parsed.json) return printJson(ctx, job);
  const output = job?.result?.deploy;
  if (!output) throw new CliError(`job ${queued.jobId} is still ${job?.state ?? 'pending'} (is the agent online?); see GET /api/v1/agent-jobs/${queued.jobId}`);
  const lines = [`deploy ${output.deployId} (job ${queued.jobId}): ${output.status}${output.repeated ? ' (answered earlier: not applied again)' : ''} in ${output.totalMs} ms`];
  for (const target of output.targets) {
    lines.push(`  ${target.targetId}: ${target.changedFiles.length ? `changed ${target.changedFiles.join(', ')}` : 'nothing changed'}`);
  }
  for (const v of output.validations) {
    const where = `${v.endpoint.host}:${v.endpoint.port} (${v.endpoint.serverName})`;
    lines.push(`  ${where}: ${v.ok ? 'serves' : `${v.failure}: ${v.reason}; served`} ${v.servedFingerprintSha256 || 'nothing'}`);
  }
  ctx.print(lines.join('\n') + '\n');
  if (job!.state === 'failed') throw new CliError(job!.error ?? `deploy ${output.status}`);
}
