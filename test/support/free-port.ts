// A TCP port on 127.0.0.1 that nothing listens on right now, for servers a test starts itself.
// The kernel picks it (listen on port 0); there is a small window in which another process could
// take it before the caller binds, which is fine for tests.
import { createServer } from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error(`unexpected server address ${String(address)}`));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

/**
 * A port on 127.0.0.1 that refuses connections and stays that way while tests run in parallel: a free
 * port from freePort() can be handed to another test's server a moment later, so "closed" ports are
 * taken from the low, privileged range that no test server uses, checked to refuse now.
 */
export async function closedPort(): Promise<number> {
  const { connect } = await import('node:net');
  for (const port of [9, 7, 13, 19, 37, 79, 1]) {
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
    });
    if (refused) return port;
  }
  throw new Error('no closed low port found on 127.0.0.1');
}
