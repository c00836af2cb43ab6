// One pino logger per process; components take children (`log.child({ component: 'gateway' })`).
// Secrets and PEM bodies are redacted by key so a careless log line cannot leak them.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'certflow-controller' },
    redact: {
      paths: ['token', '*.token', 'secret', '*.secret', 'keyPem', '*.keyPem', 'privateKey', '*.privateKey',
        'authorization', '*.authorization', 'headers.authorization', 'masterKey', '*.masterKey', 'csrPem', '*.csrPem'],
      censor: '[redacted]',
    },
  });
}
