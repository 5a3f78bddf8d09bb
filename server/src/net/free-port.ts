// A free TCP port on 127.0.0.1, for services a test or benchmark starts beside the server (PostgreSQL,
// Mosquitto). The port is released before it is returned, so another process could take it first;
// callers bind at once.
import { createServer } from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
