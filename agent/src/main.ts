// certflow-agent: the composition root.
//   certflow-agent run [--config FILE]    enrol if needed, then stay connected to the controller
//   certflow-agent scan PATH... [--json]  list the certificates under PATHs, no controller needed
import { parseArgs } from 'node:util';
import { AgentConfigError, DEFAULT_CONFIG_FILE, loadAgentConfig } from './config.js';
import { createAgentLogger } from './log.js';
import { runAgent } from './run-agent.js';
import { EnrollmentFailedError } from './identity/enroll.js';
import { CorruptIdentityError } from './identity/identity-store.js';
import { runScanCommand } from './commands/scan.js';

const USAGE = `usage:
  certflow-agent run [--config FILE]     (default config: ${DEFAULT_CONFIG_FILE})
  certflow-agent scan PATH... [--json]`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'scan') return runScanCommand(rest, process.stdout, process.stderr);
  if (command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return 0;
  }
  if (command !== 'run') {
    console.error(USAGE);
    return 2;
  }
  let configFile = DEFAULT_CONFIG_FILE;
  try {
    const { values } = parseArgs({ args: rest, options: { config: { type: 'string', short: 'c' } }, strict: true });
    configFile = values.config ?? configFile;
  } catch (err) {
    console.error(`certflow-agent: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const config = loadAgentConfig(configFile);
  const log = createAgentLogger(config.logLevel);
  const shutdown = new AbortController();
  const stop = (signal: string) => {
    log.info({ signal }, 'shutting down');
    shutdown.abort();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  await runAgent(config, log, shutdown.signal);
  return 0;
}

main(process.argv.slice(2)).then((code) => process.exit(code), (err) => {
  if (err instanceof AgentConfigError || err instanceof EnrollmentFailedError || err instanceof CorruptIdentityError) {
    console.error(`certflow-agent: ${err.message}`);
    process.exit(err instanceof AgentConfigError ? 2 : 1);
  }
  console.error(`certflow-agent: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
