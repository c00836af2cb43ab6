// The agent's logger: JSON lines on stdout (journald keeps them); PEM bodies and tokens are redacted.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createAgentLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'certflow-agent' },
    redact: { paths: ['token', '*.token', 'keyPem', '*.keyPem', 'privateKey', '*.privateKey'], censor: '[redacted]' },
  });
}
