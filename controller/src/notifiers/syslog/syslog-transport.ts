// Sends RFC 5424 messages: UDP datagrams, or a TCP / TLS connection with octet-counted frames that is
// closed once everything was written. Syslog has no acknowledgement: "sent" means the datagrams left, or
// the stream was flushed to the collector's TCP connection and closed cleanly.
import { createSocket } from 'node:dgram';
import { isIP, connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { asDeliveryError } from '../notifier.js';
import { octetCounted, truncateUtf8 } from './rfc5424.js';
import type { SyslogConfig, SyslogSecrets } from './syslog-config.js';

export function syslogPort(config: SyslogConfig): number {
  return config.port ?? (config.transport === 'tls' ? 6514 : 514);
}

async function sendUdp(config: SyslogConfig, messages: string[], signal: AbortSignal): Promise<void> {
  const socket = createSocket(isIP(config.host) === 6 ? 'udp6' : 'udp4');
  try {
    for (const message of messages) {
      if (signal.aborted) throw signal.reason;
      await new Promise<void>((resolve, reject) => socket.send(truncateUtf8(message, config.maxMessageBytes), syslogPort(config), config.host,
        (err) => (err ? reject(err) : resolve())));
    }
  } finally {
    socket.close();
  }
}

function sendStream(config: SyslogConfig, secrets: SyslogSecrets, messages: string[], signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const port = syslogPort(config);
    const socket: Socket = config.transport === 'tls'
      ? tlsConnect({
        host: config.host, port, servername: isIP(config.host) ? undefined : config.host,
        rejectUnauthorized: config.rejectUnauthorized, ...(config.caPem ? { ca: config.caPem } : {}),
        ...(config.clientCertPem && secrets.clientKeyPem ? { cert: config.clientCertPem, key: secrets.clientKeyPem } : {}),
      })
      : tcpConnect({ host: config.host, port });
    const onAbort = () => socket.destroy(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    const done = (err?: Error) => {
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      if (err) reject(err);
      else resolve();
    };
    socket.once('error', done);
    socket.once(config.transport === 'tls' ? 'secureConnect' : 'connect', () => {
      socket.end(Buffer.concat(messages.map(octetCounted)));
    });
    // 'finish': every byte was handed to the kernel and our FIN queued; the collector may still close first.
    socket.once('finish', () => done());
  });
}

export async function sendSyslog(config: SyslogConfig, secrets: SyslogSecrets, messages: string[], signal: AbortSignal): Promise<void> {
  const where = `syslog ${config.transport}://${config.host}:${syslogPort(config)}`;
  try {
    if (config.transport === 'udp') await sendUdp(config, messages, signal);
    else await sendStream(config, secrets, messages, signal);
  } catch (err) {
    throw asDeliveryError(err, signal, where);
  }
}
