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
