// certflowctl login: check a URL and token against the API, then remember them for later commands.
import { saveLogin } from './cli-config.js';
import { UsageError } from './cli-errors.js';
import { parseCommand, printJson, type CommandContext } from './command.js';
import { ApiClient } from './http-client.js';
import type { AgentPage } from '../api/schemas.js';

export const LOGIN_USAGE = 'usage: certflowctl login --url URL --token TOKEN [--json]';

export async function loginCommand(args: string[], ctx: CommandContext): Promise<void> {
  const parsed = parseCommand(args, { usage: LOGIN_USAGE });
  const url = parsed.url ?? ctx.env.url;
  const token = parsed.token ?? ctx.env.token;
  if (!url) throw new UsageError('login needs --url', LOGIN_USAGE);
  if (!token) throw new UsageError('login needs --token', LOGIN_USAGE);
  const client = new ApiClient(url, token, ctx.signal);
  // Any authenticated read proves both the address and the token; the smallest page is enough.
  await client.get<AgentPage>('/api/v1/agents', { limit: 1 });
  saveLogin(ctx.env.configPath, { url: client.baseUrl, token });
  if (parsed.json) printJson(ctx, { url: client.baseUrl, configPath: ctx.env.configPath });
  else ctx.print(`Logged in to ${client.baseUrl}; saved to ${ctx.env.configPath}\n`);
}
