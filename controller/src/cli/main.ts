// certflowctl, the admin CLI over the REST API. Human tables by default, --json for scripts.
// Exit codes: 0 done, 1 the command failed (API problem, network, config), 2 the command line is wrong.
import { adminTokensCommand, ADMIN_TOKENS_USAGE } from './admin-tokens-command.js';
import { agentsCommand, AGENTS_USAGE } from './agents-command.js';
import { approvalsCommand, APPROVALS_USAGE } from './approvals-command.js';
import { auditCommand, AUDIT_USAGE } from './audit-command.js';
import { casCommand, CAS_USAGE } from './cas-command.js';
import { certsCommand, CERTS_USAGE } from './certs-command.js';
import { endpointsCommand, ENDPOINTS_USAGE } from './endpoints-command.js';
import { findingsCommand, FINDINGS_USAGE } from './findings-command.js';
import { readCliEnvironment } from './cli-config.js';
import { CliError, HelpRequested, UsageError } from './cli-errors.js';
import type { CommandContext } from './command.js';
import { loginCommand, LOGIN_USAGE } from './login-command.js';
import { managedCommand, MANAGED_USAGE } from './managed-command.js';
import { notifyCommand, NOTIFY_USAGE } from './notify-command.js';
import { runsCommand, RUNS_USAGE } from './runs-command.js';
import { templatesCommand, TEMPLATES_USAGE } from './templates-command.js';
import { tokensCommand, TOKENS_USAGE } from './tokens-command.js';

const USAGE = [
  'certflowctl: manage certflow from the command line',
  '',
  LOGIN_USAGE,
  AGENTS_USAGE,
  CERTS_USAGE,
  FINDINGS_USAGE,
  ENDPOINTS_USAGE,
  TOKENS_USAGE,
  AUDIT_USAGE,
  ADMIN_TOKENS_USAGE,
  CAS_USAGE,
  TEMPLATES_USAGE,
  MANAGED_USAGE,
  RUNS_USAGE,
  APPROVALS_USAGE,
  NOTIFY_USAGE,
  '',
  'Every command also takes --url URL and --token TOKEN; otherwise CERTFLOW_URL and CERTFLOW_TOKEN,',
  'then the login saved in $CERTFLOWCTL_CONFIG (default ~/.config/certflow/certflowctl.json).',
].join('\n').replace(/^usage: /gm, '  ').replace(/^ {7}/gm, '  ');

const commands: Record<string, (args: string[], ctx: CommandContext) => Promise<void>> = {
  login: loginCommand,
  agents: agentsCommand,
  certs: certsCommand,
  findings: findingsCommand,
  endpoints: endpointsCommand,
  tokens: tokensCommand,
  audit: auditCommand,
  'admin-tokens': adminTokensCommand,
  cas: casCommand,
  templates: templatesCommand,
  managed: managedCommand,
  runs: runsCommand,
  approvals: approvalsCommand,
  notify: notifyCommand,
};

export async function runCli(argv: string[], ctx: CommandContext, printError: (text: string) => void): Promise<number> {
  const [name, ...args] = argv;
  try {
    if (name === undefined) throw new UsageError('missing command', USAGE);
    if (name === '--help' || name === '-h' || name === 'help') throw new HelpRequested(USAGE);
    const command = commands[name];
    if (!command) throw new UsageError(`unknown command "${name}"`, USAGE);
    await command(args, ctx);
    return 0;
  } catch (error) {
    if (error instanceof HelpRequested) {
      ctx.print(error.usage + '\n');
      return 0;
    }
    if (error instanceof UsageError) {
      printError(`certflowctl: ${error.message}\n${error.usage}\n`);
      return error.exitCode;
    }
    if (error instanceof CliError) {
      printError(`certflowctl: ${error.message}\n`);
      return error.exitCode;
    }
    // A bug of ours: say so plainly, with the stack, since there is no log to look in.
    printError(`certflowctl: unexpected error: ${(error as Error)?.stack ?? String(error)}\n`);
    return 1;
  }
}

const shutdown = new AbortController();
process.once('SIGINT', () => shutdown.abort());
process.exitCode = await runCli(process.argv.slice(2), {
  env: readCliEnvironment(),
  print: (text) => process.stdout.write(text),
  signal: shutdown.signal,
}, (text) => process.stderr.write(text));
