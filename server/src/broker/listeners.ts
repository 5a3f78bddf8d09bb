// Network listeners that feed connections to the broker: MQTT over TCP, over TLS, and over WebSocket at /mqtt.
import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { createWebSocketStream, WebSocketServer } from 'ws';

export type Transport = 'mqtt' | 'mqtts' | 'ws';
/** `source` is the client's address, for limits per source. */
export type Accept = (stream: Duplex, transport: Transport, source: string | undefined) => void;

/** Path of the MQTT-over-WebSocket endpoint on the HTTP server. */
export const WS_PATH = '/mqtt';

/** A TCP listener with Nagle off: without TCP_NODELAY, small MQTT packets wait tens of ms for an ACK. */
export async function listenTcp(host: string, port: number, accept: Accept): Promise<Server> {
  const server = createServer({ noDelay: true }, (socket: Socket) => {
    socket.setNoDelay(true);
    accept(socket, 'mqtt', socket.remoteAddress);
  });
  await listen(server, host, port);
  return server;
}

/**
 * MQTT over TLS; the handshake must finish within `handshakeTimeoutMs`. With `clientCa` (mTLS) every
 * client must present a valid certificate issued by that CA, or the handshake fails.
 */
export async function listenTls(
  host: string,
  port: number,
  tls: { cert: string | Buffer; key: string | Buffer; clientCa?: string },
  handshakeTimeoutMs: number,
  accept: Accept,
): Promise<Server> {
  const mtls = tls.clientCa ? { ca: tls.clientCa, requestCert: true, rejectUnauthorized: true } : {};
  const server = createTlsServer(
    { cert: tls.cert, key: tls.key, handshakeTimeout: handshakeTimeoutMs, minVersion: 'TLSv1.2', ...mtls },
    (socket: TLSSocket) => {
      socket.setNoDelay(true);
      accept(socket, 'mqtts', socket.remoteAddress);
    },
  );
  // A failed handshake is the client's problem; it must not reach the process as an 'error'.
  server.on('tlsClientError', () => undefined);
  await listen(server, host, port);
  return server;
}

/**
 * Accepts WebSocket upgrades at {@link WS_PATH} on an existing HTTP(S) server. `maxPayload` bounds
 * one WebSocket message before it is buffered. Returns a function that detaches and closes.
 */
export function attachWebSocket(http: HttpServer | HttpsServer, maxPayload: number, accept: Accept): () => void {
  const wss = new WebSocketServer({ noServer: true, maxPayload, perMessageDeflate: false, clientTracking: false });
  const onUpgrade = (req: import('node:http').IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== WS_PATH) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    (socket as Socket).setNoDelay?.(true);
    wss.handleUpgrade(req, socket, head, (ws) => {
      const stream = createWebSocketStream(ws);
      stream.on('error', () => undefined);
      accept(stream, 'ws', req.socket.remoteAddress);
    });
  };
  http.on('upgrade', onUpgrade);
  return () => {
    http.off('upgrade', onUpgrade);
    wss.close();
  };
}

/** Closes a listener; live connections are the broker's to end. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

export const boundPort = (server: Server): number => (server.address() as AddressInfo).port;

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
