// A TCP proxy in front of the broker that cuts every connection through it now and then (flaky links).
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface FlakyProxy {
  /** `mqtt://127.0.0.1:PORT` to give flaky devices instead of the broker's URL. */
  url: string;
  /** Connections cut so far. */
  readonly drops: number;
  close(): Promise<void>;
}

/**
 * Forwards to `target` (an `mqtt://host:port` URL) and destroys each connection after a random
 * lifetime of `minUpMs..maxUpMs` (defaults 3 s..10 s), like a cellular link that keeps dropping.
 */
export async function startFlakyProxy(
  target: string,
  o: { minUpMs?: number; maxUpMs?: number; random?: () => number } = {},
): Promise<FlakyProxy> {
  const u = new URL(target);
  const min = o.minUpMs ?? 3000;
  const max = o.maxUpMs ?? 10_000;
  const random = o.random ?? Math.random;
  const open = new Set<Socket>();
  let drops = 0;
  const server: Server = createServer((client) => {
    const upstream = connect(Number(u.port), u.hostname);
    open.add(client);
    const cut = setTimeout(
      () => {
        drops++;
        client.destroy();
        upstream.destroy();
      },
      min + random() * (max - min),
    );
    const end = () => {
      clearTimeout(cut);
      open.delete(client);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get drops() {
      return drops;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of open) s.destroy();
        server.close(() => r());
      }),
  };
}
