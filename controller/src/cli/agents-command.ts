// certflowctl agents list | show ID | rescan ID | network-scan ID --ranges R,... --ports P,... | csr ID ... | deploy ID ...
import { CliError, UsageError } from './cli-errors.js';
import { AGENTS_DEPLOY_USAGE, deployToAgent } from './agents-deploy-command.js';
import { apiClient, intOption, parseCommand, printJson, type CommandContext } from './command.js';
import { formatDate, formatDateTime, formatFields, formatTable, pageFooter, truncate } from './table.js';
import type { AgentDetail, AgentPage, AgentSummary } from '../api/schemas.js';

interface AgentJob {
  jobId: string;
  kind: string;
  state: string;
}

export const AGENTS_USAGE = [
  'usage: certflowctl agents list [--limit N] [--offset N] [--json]',
  '       certflowctl agents show ID [--json]',
  '       certflowctl agents rescan ID [--json]',
  '       certflowctl agents network-scan ID --ranges CIDR[,CIDR...] --ports PORT[,PORT...] [--json]',
  '       certflowctl agents csr ID [--dns NAME[,NAME...]] [--ip ADDR[,ADDR...]] [--cn NAME] [--key-type TYPE] [--key-id ID] [--json]',
  AGENTS_DEPLOY_USAGE.replace(/^usage: /, '       '),
].join('\n');

export async function agentsCommand(args: string[], ctx: CommandContext): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === 'list') return listAgents(rest, ctx);
  if (sub === 'show') return showAgent(rest, ctx);
  if (sub === 'rescan') return rescanAgent(rest, ctx);
  if (sub === 'network-scan') return assignNetworkScan(rest, ctx);
  if (sub === 'csr') return makeCsr(rest, ctx);
  if (sub === 'deploy') return deployToAgent(rest, ctx);
  throw new UsageError(sub ? `unknown agents command "${sub}"` : 'missing agents command', AGENTS_USAGE);
}

const status = (agent: AgentSummary) => (agent.online ? 'online' : 'offline');

async function listAgents(args: string[], ctx: CommandContext): Promise<void> {
  const parsed = parseCommand(args, { usage: AGENTS_USAGE, strings: ['limit', 'offset'] });
  const page = await apiClient(parsed, ctx).get<AgentPage>('/api/v1/agents', {
    limit: intOption(parsed, 'limit'), offset: intOption(parsed, 'offset'),
  });
  if (parsed.json) return printJson(ctx, page);
  if (page.items.length > 0) {
    ctx.print(formatTable(page.items, [
      { header: 'ID', value: (a) => a.id },
      { header: 'NAME', value: (a) => truncate(a.name, 30) },
      { header: 'HOSTNAME', value: (a) => truncate(a.hostname, 40) },
      { header: 'OS', value: (a) => truncate(a.os, 30) },
      { header: 'VERSION', value: (a) => a.agentVersion },
      { header: 'STATUS', value: status },
      { header: 'LAST SEEN', value: (a) => formatDateTime(a.lastSeenAt) },
      { header: 'PROBLEMS', value: (a) => String(a.scanProblemCount), align: 'right' },
    ]));
  }
  ctx.print(pageFooter(page, 'agents'));
}

async function showAgent(args: string[], ctx: CommandContext): Promise<void> {
  const parsed = parseCommand(args, { usage: AGENTS_USAGE, positionals: ['ID'] });
  const id = parsed.positionals[0];
  const agent = await apiClient(parsed, ctx).get<AgentDetail>(`/api/v1/agents/${encodeURIComponent(id)}`);
  if (parsed.json) return printJson(ctx, agent);
  ctx.print(formatFields([
    ['ID', agent.id],
    ['Name', agent.name],
    ['Hostname', agent.hostname],
    ['OS', agent.os || '-'],
    ['Agent version', agent.agentVersion || '-'],
    ['IP addresses', agent.ipAddresses.join(', ') || '-'],
    ['Status', status(agent)],
    ['Last seen', formatDateTime(agent.lastSeenAt)],
    ['Last check-in', formatDateTime(agent.lastCheckInAt)],
    ['Enrolled', formatDate(agent.enrolledAt)],
    ['Identity expires', formatDate(agent.certificateNotAfter)],
  ]));
  if (agent.scanProblems.length === 0) {
    ctx.print('\nNo scan problems.\n');
    return;
  }
  ctx.print(`\nScan problems (${agent.scanProblems.length}):\n`);
  ctx.print(formatTable(agent.scanProblems, [
    { header: 'PATH', value: (p) => p.path },
    { header: 'PROBLEM', value: (p) => p.message },
  ]));
}

async function rescanAgent(args: string[], ctx: CommandContext): Promise<void> {
  const parsed = parseCommand(args, { usage: AGENTS_USAGE, positionals: ['ID'] });
  const job = await apiClient(parsed, ctx).post<AgentJob>(`/api/v1/agents/${encodeURIComponent(parsed.positionals[0])}/rescan`, {});
  if (parsed.json) return printJson(ctx, job);
  ctx.print(`rescan requested (job ${job.jobId}); the agent sends a full inventory when it runs it\n`);
}

async function assignNetworkScan(args: string[], ctx: CommandContext): Promise<void> {
  const parsed = parseCommand(args, { usage: AGENTS_USAGE, positionals: ['ID'], strings: ['ranges', 'ports'] });
  const list = (name: string) => (parsed.strings[name] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const ports = list('ports').map((p) => {
    if (!/^\d+$/.test(p)) throw new UsageError(`--ports: "${p}" is not a port number`, AGENTS_USAGE);
    return Number(p);
  });
  if (parsed.strings.ranges === undefined || parsed.strings.ports === undefined) throw new UsageError('--ranges and --ports are required', AGENTS_USAGE);
  const job = await apiClient(parsed, ctx).put<AgentJob>(`/api/v1/agents/${encodeURIComponent(parsed.positionals[0])}/network-scan`, {
    ranges: list('ranges'), ports,
  });
  if (parsed.json) return printJson(ctx, job);
  ctx.print(`network scan assigned (job ${job.jobId}); the agent probes only the ranges its own config also allows\n`);
}

interface AgentJobDetail extends AgentJob {
  error: string | null;
  result: { csr?: { keyId: string; csrPem: string; publicKeySha256: string } } | null;
}

/** Asks the agent for a key and CSR, waits for the job (up to a minute) and prints the CSR. */
async function makeCsr(args: string[], ctx: CommandContext): Promise<void> {
  const parsed = parseCommand(args, { usage: AGENTS_USAGE, positionals: ['ID'], strings: ['dns', 'ip', 'cn', 'key-type', 'key-id'] });
  const list = (name: string) => (parsed.strings[name] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const client = apiClient(parsed, ctx);
  const queued = await client.post<AgentJob>(`/api/v1/agents/${encodeURIComponent(parsed.positionals[0])}/csr`, {
    dnsNames: list('dns'), ipAddresses: list('ip'),
    ...(parsed.strings.cn ? { commonName: parsed.strings.cn } : {}),
    ...(parsed.strings['key-type'] ? { keyType: parsed.strings['key-type'] } : {}),
    ...(parsed.strings['key-id'] ? { keyId: parsed.strings['key-id'] } : {}),
  });
  let job: AgentJobDetail | null = null;
  for (const until = Date.now() + 60_000; Date.now() < until;) {
    job = await client.get<AgentJobDetail>(`/api/v1/agent-jobs/${queued.jobId}`);
    if (job.state === 'succeeded' || job.state === 'failed') break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  if (parsed.json) return printJson(ctx, job);
  if (job?.state === 'failed') throw new CliError(`the agent could not make the CSR: ${job.error}`);
  if (job?.state !== 'succeeded' || !job.result?.csr) {
    throw new CliError(`job ${queued.jobId} is still ${job?.state ?? 'pending'} (is the agent online?); see GET /api/v1/agent-jobs/${queued.jobId}`);
  }
  ctx.print(`key ${job.result.csr.keyId} made on the agent (public key sha256 ${job.result.csr.publicKeySha256})\n${job.result.csr.csrPem}\n`);
}
