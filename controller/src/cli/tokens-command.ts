// certflowctl tokens create: an enrolment token for one new agent, printed with the CA pin and a
// ready-to-edit agent configuration, so enrolling a host is one copy and paste.
import { UsageError } from './cli-errors.js';
import { apiClient, intOption, parseCommand, printJson, type CommandContext } from './command.js';
import { formatDateTime, formatFields } from './table.js';
import type { EnrollmentTokenResponse } from '../api/schemas.js';

export const TOKENS_USAGE = 'usage: certflowctl tokens create [--description D] [--expires-in-hours N] [--json]';

/** The gateway listens on this port unless the controller's grpcListen says otherwise. */
const DEFAULT_GATEWAY_PORT = 7443;

export async function tokensCommand(args: string[], ctx: CommandContext): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === 'create') return createToken(rest, ctx);
  throw new UsageError(sub ? `unknown tokens command "${sub}"` : 'missing tokens command', TOKENS_USAGE);
}

async function createToken(args: string[], ctx: CommandContext): Promise<void> {
  const parsed = parseCommand(args, { usage: TOKENS_USAGE, strings: ['description', 'expires-in-hours'] });
  const client = apiClient(parsed, ctx);
  const created = await client.post<EnrollmentTokenResponse>('/api/v1/enrollment-tokens', {
    description: parsed.strings.description,
    expiresInHours: intOption(parsed, 'expires-in-hours'),
  });
  if (parsed.json) return printJson(ctx, created);
  const caPin = `sha256:${created.caFingerprintSha256}`;
  const agentConfig = {
    controller: `${new URL(client.baseUrl).hostname}:${DEFAULT_GATEWAY_PORT}`,
    enrollment: { token: created.token, caPin },
  };
  ctx.print([
    'Enrolment token (single use; it is shown only this once):',
    '',
    `  ${created.token}`,
    '',
    formatFields([['Expires', formatDateTime(created.expiresAt)], ['CA pin', caPin]]).trimEnd(),
    '',
    'Example certflow-agent configuration (/etc/certflow/agent.json); set "controller" to the',
    "gateway's address as the agent reaches it:",
    '',
    JSON.stringify(agentConfig, null, 2),
    '',
  ].join('\n'));
}
