/**
 * Free loopback TCP ports for test servers. The ports are found by binding port 0 and closing
 * the socket again, so another process may grab one before the caller binds it: callers that
 * spawn servers should retry on "address already in use".
 */
import { createServer, type Server } from 'node:net';

function listenOnZero(host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, () => resolve(server));
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * Returns `count` distinct free ports on `host` (default `127.0.0.1`). All sockets are held
 * open together until every port is known, so the ports differ from each other.
 */
export async function freePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) servers.push(await listenOnZero(host));
    return servers.map((s) => {
      const address = s.address();
      if (address === null || typeof address === 'string') throw new Error('unexpected server address');
      return address.port;
    });
  } finally {
    await Promise.all(servers.map(closeServer));
  }
}

/** One free port on `host` (default `127.0.0.1`). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const [port] = await freePorts(1, host);
  return port!;
}
