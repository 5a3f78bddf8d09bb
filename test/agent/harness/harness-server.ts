// A stand-in for the Flotilla server's device side [WIRE]: aedes broker (TCP + WebSocket), chunk service,
// blob HTTP endpoint, desired state, telemetry store with acks. The lead swaps it for the real server later.
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { Aedes, type Client } from 'aedes';
import { WebSocketServer, createWebSocketStream } from 'ws';
import {
  ChunkRequest,
  DEFAULT_PREFIX,
  Presence,
  ReportedState,
  SampleBatch,
  StatusEvent,
  TelemetryWindow,
  decodeMessage,
  deviceTopic,
  encodeChunkResponse,
  parseDeviceTopic,
  type BundleRef,
  type TelemetryPolicy,
  type UpdatePolicy,
} from '@flotilla/firmware-bundler/wire';

/** What the harness knows about one device. */
export interface DeviceRecord {
  token: string;
  /** Telemetry store: at most one window per seq [WIRE-2.5]. */
  windows: Map<number, TelemetryWindow>;
  /** Every telemetry message received, duplicates included (seq list). */
  receipts: number[];
  samples: Map<number, SampleBatch>;
  statuses: StatusEvent[];
  reported: ReportedState | null;
  presence: { online: boolean; session: number }[];
  rev: number;
  desired: {
    bundle: BundleRef | null;
    telemetry: TelemetryPolicy;
    shadow?: BundleRef | null;
    shadowRate?: number;
    update?: UpdatePolicy;
    retry?: number;
    trust?: unknown;
  } | null;
  /** Chunk requests served, by digest. */
  served: Map<string, number>;
}

/** Options of {@link HarnessServer.start}. */
export interface HarnessOptions {
  /** Static folders served over HTTP, by URL prefix (the browser test's page and wasm files). */
  static?: Record<string, string>;
  /** Ack telemetry windows [WIRE-2.5]. Default true. */
  ack?: boolean;
}

const DEFAULT_TELEMETRY: TelemetryPolicy = { windowSec: 60, sampleRate: 0, sampleBudgetBytes: 0 };

/** The harness: one broker, one HTTP server, any number of devices. */
export class HarnessServer {
  readonly prefix = DEFAULT_PREFIX;
  readonly devices = new Map<string, DeviceRecord>();
  readonly blobs = new Map<string, Uint8Array>();
  /** Blob digest → responses still to corrupt (one flipped byte each): the tampering man in the middle. */
  readonly tamper = new Map<string, number>();
  /**
   * Blob digest → the size the server lies about: chunk responses claim it as `total` and HTTP as
   * Content-Length, and bytes past the real blob are zeros, so a trusting device buffers all of it.
   */
  readonly inflate = new Map<string, number>();
  /** HTTP blob responses leave out Content-Length (chunked), so only the bytes themselves tell the size. */
  httpNoLength = false;
  /** Bytes sent per blob digest, over MQTT and HTTP together. */
  readonly sentBytes = new Map<string, number>();
  /** Chunk requests answered BUSY before serving normally [WIRE-2.8]. */
  busyResponses = 0;
  /** Whole-blob HTTP responses are cut short after this many bytes (Range requests are not), to exercise resume. */
  httpCutAfter: number | null = null;
  httpRequests: { digest: string; range: string | null }[] = [];
  private aedes: Aedes | null = null;
  private tcp: TcpServer | null = null;
  private readonly sockets = new Set<Socket>();
  private tcpPort = 0;
  private http!: HttpServer;
  private wss!: WebSocketServer;

  private constructor(private readonly o: HarnessOptions) {}

  static async start(o: HarnessOptions = {}): Promise<HarnessServer> {
    const h = new HarnessServer(o);
    h.http = createHttpServer((req, res) => void h.onHttp(req, res));
    h.wss = new WebSocketServer({ noServer: true });
    h.http.on('upgrade', (req, socket, head) => {
      if (!req.url?.startsWith('/mqtt') || !h.aedes) return socket.destroy();
      h.wss.handleUpgrade(req, socket, head, (ws) => {
        if (!h.aedes) return ws.close();
        h.aedes.handle(createWebSocketStream(ws), req);
      });
    });
    await new Promise<void>((r) => h.http.listen(0, '127.0.0.1', () => r()));
    await h.startBroker();
    return h;
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${(this.http.address() as AddressInfo).port}`;
  }
  get mqttUrl(): string {
    return `mqtt://127.0.0.1:${this.tcpPort}`;
  }
  get wsUrl(): string {
    return `ws://127.0.0.1:${(this.http.address() as AddressInfo).port}/mqtt`;
  }

  /** Registers a device with its token. */
  addDevice(deviceId: string, token = `tok-${deviceId}`): DeviceRecord {
    const d: DeviceRecord = {
      token,
      windows: new Map(),
      receipts: [],
      samples: new Map(),
      statuses: [],
      reported: null,
      presence: [],
      rev: 0,
      desired: null,
      served: new Map(),
    };
    this.devices.set(deviceId, d);
    return d;
  }

  device(deviceId: string): DeviceRecord {
    const d = this.devices.get(deviceId);
    if (!d) throw new Error(`unknown device ${deviceId}`);
    return d;
  }

  /** Makes blobs (envelope and chunks) fetchable. */
  addBlobs(blobs: ReadonlyMap<string, Uint8Array>): void {
    for (const [k, v] of blobs) this.blobs.set(k, v);
  }

  /** Publishes a retained desired state for the device [WIRE-2.2]. */
  async setDesired(
    deviceId: string,
    bundle: BundleRef | null,
    telemetry: Partial<TelemetryPolicy> = {},
    shadow: { bundle: BundleRef | null; rate?: number } = { bundle: null },
    control: { update?: UpdatePolicy; retry?: number } = {},
  ): Promise<void> {
    const d = this.device(deviceId);
    d.rev++;
    d.desired = {
      bundle,
      telemetry: { ...DEFAULT_TELEMETRY, ...d.desired?.telemetry, ...telemetry },
      shadow: shadow.bundle,
      shadowRate: shadow.rate,
      ...control,
      trust: d.desired?.trust,
    };
    await this.publishDesired(deviceId);
  }

  /** Publishes the desired state again with a trust update (SPEC §6.6) in it [WIRE-2.2.2]. */
  async setTrust(deviceId: string, trust: unknown, bundle?: BundleRef | null): Promise<void> {
    const d = this.device(deviceId);
    d.rev++;
    d.desired = {
      bundle: bundle === undefined ? (d.desired?.bundle ?? null) : bundle,
      telemetry: d.desired?.telemetry ?? DEFAULT_TELEMETRY,
      shadow: d.desired?.shadow,
      shadowRate: d.desired?.shadowRate,
      update: d.desired?.update,
      retry: d.desired?.retry,
      trust,
    };
    await this.publishDesired(deviceId);
  }

  /** Stops the broker (TCP and WebSocket) and drops every connection; HTTP and the stores stay up. */
  async stopBroker(): Promise<void> {
    const a = this.aedes;
    this.aedes = null;
    for (const s of this.sockets) s.destroy();
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((r) => (this.tcp ? this.tcp.close(() => r()) : r()));
    this.tcp = null;
    if (a) await new Promise<void>((r) => a.close(() => r()));
  }

  /** (Re)starts the broker on the same TCP port and re-publishes every retained desired state. */
  async startBroker(): Promise<void> {
    const aedes = await Aedes.createBroker({
      authenticate: (client, username, password, done) => {
        const d = this.devices.get(client.id);
        const ok = !!d && username === client.id && password?.toString() === d.token;
        done(ok ? null : Object.assign(new Error('bad credentials'), { returnCode: 4 as const }), ok);
      },
      authorizePublish: (client, packet, done) =>
        done(client && this.ownTopic(client, packet.topic, 'publish') ? null : new Error('not your topic')),
      authorizeSubscribe: (client, sub, done) => done(null, this.ownTopic(client, sub.topic, 'subscribe') ? sub : null),
    });
    aedes.on('publish', (packet, client) => {
      if (client) this.onDevicePublish(client, packet.topic, packet.payload as Buffer);
    });
    this.aedes = aedes;
    this.tcp = createTcpServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      aedes.handle(socket);
    });
    await new Promise<void>((resolve, reject) => {
      this.tcp!.once('error', reject);
      this.tcp!.listen(this.tcpPort, '127.0.0.1', () => resolve());
    });
    this.tcpPort = (this.tcp.address() as AddressInfo).port;
    for (const id of this.devices.keys()) await this.publishDesired(id);
  }

  async close(): Promise<void> {
    await this.stopBroker();
    this.wss.close();
    this.http.closeAllConnections();
    await new Promise<void>((r) => this.http.close(() => r()));
  }

  private ownTopic(client: Client, topic: string, kind: 'publish' | 'subscribe'): boolean {
    const t = parseDeviceTopic(this.prefix, topic);
    if (!t || t.deviceId !== client.id) return false;
    return kind === 'publish'
      ? ['reported', 'status', 'telemetry', 'samples', 'chunks/req', 'presence'].includes(t.leaf)
      : ['desired', 'chunks/res', 'ack', 'credentials'].includes(t.leaf);
  }

  private async publishDesired(deviceId: string): Promise<void> {
    const d = this.device(deviceId);
    if (!d.desired || !this.aedes) return;
    const payload = Buffer.from(
      JSON.stringify({
        v: 1,
        rev: d.rev,
        bundle: d.desired.bundle,
        telemetry: d.desired.telemetry,
        shadow: d.desired.shadow ?? null,
        shadowRate: d.desired.shadowRate,
        update: d.desired.update,
        retry: d.desired.retry,
        trust: d.desired.trust,
        issuedAt: new Date().toISOString(),
      }),
    );
    await this.publish(deviceTopic(this.prefix, deviceId, 'desired'), payload, true);
  }

  private publish(topic: string, payload: Buffer, retain = false): Promise<void> {
    const a = this.aedes;
    if (!a) return Promise.resolve();
    return new Promise((r) => a.publish({ cmd: 'publish', topic, payload, qos: 1, retain, dup: false }, () => r()));
  }

  private onDevicePublish(client: Client, topic: string, payload: Buffer): void {
    const t = parseDeviceTopic(this.prefix, topic);
    const d = t && this.devices.get(t.deviceId);
    if (!t || !d) return;
    const ack = (kind: 'telemetry' | 'samples', seq: number) => {
      if (this.o.ack !== false)
        void this.publish(deviceTopic(this.prefix, t.deviceId, 'ack'), Buffer.from(JSON.stringify({ v: 1, kind, seqs: [seq] })));
    };
    switch (t.leaf) {
      case 'telemetry': {
        const w = decodeMessage(TelemetryWindow, payload);
        if (!w) return;
        d.receipts.push(w.seq);
        if (!d.windows.has(w.seq)) d.windows.set(w.seq, w);
        return ack('telemetry', w.seq);
      }
      case 'samples': {
        const s = decodeMessage(SampleBatch, payload);
        if (!s) return;
        if (!d.samples.has(s.seq)) d.samples.set(s.seq, s);
        return ack('samples', s.seq);
      }
      case 'status': {
        const s = decodeMessage(StatusEvent, payload);
        if (s) d.statuses.push(s);
        return;
      }
      case 'reported': {
        d.reported = decodeMessage(ReportedState, payload);
        return;
      }
      case 'presence': {
        const p = decodeMessage(Presence, payload);
        if (p) d.presence.push(p);
        return;
      }
      case 'chunks/req':
        return void this.serveChunk(t.deviceId, d, payload);
    }
    void client;
  }

  private async serveChunk(deviceId: string, d: DeviceRecord, payload: Buffer): Promise<void> {
    const req = decodeMessage(ChunkRequest, payload);
    if (!req) return;
    const topic = deviceTopic(this.prefix, deviceId, 'chunks/res');
    const blob = this.blobs.get(req.digest);
    const head = { v: 1 as const, cid: req.cid, digest: req.digest };
    if (this.busyResponses > 0) {
      this.busyResponses--;
      return this.publish(topic, Buffer.from(encodeChunkResponse({ ...head, ok: false, code: 'BUSY' })));
    }
    if (!blob) return this.publish(topic, Buffer.from(encodeChunkResponse({ ...head, ok: false, code: 'NOT_FOUND' })));
    d.served.set(req.digest, (d.served.get(req.digest) ?? 0) + 1);
    const offset = req.offset ?? 0;
    const total = this.inflate.get(req.digest) ?? blob.length;
    let bytes = padded(blob, total).subarray(offset, req.length ? Math.min(total, offset + req.length) : total);
    this.count(req.digest, bytes.length);
    const left = this.tamper.get(req.digest) ?? 0;
    if (left > 0) {
      this.tamper.set(req.digest, left - 1);
      bytes = bytes.slice();
      bytes[0] = bytes[0]! ^ 0xff;
    }
    await this.publish(topic, Buffer.from(encodeChunkResponse({ ...head, ok: true, total, offset }, bytes)));
  }

  private async onHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.httpUrl);
    const blob = /^\/api\/v1\/blobs\/([0-9a-f]{64})$/.exec(url.pathname);
    const conn = /^\/api\/v1\/devices\/([^/]+)\/connection$/.exec(url.pathname);
    if (blob || conn) {
      const [id, token] = (req.headers.authorization ?? '').replace(/^Bearer /, '').split(':');
      const d = id ? this.devices.get(id) : undefined;
      if (!d || d.token !== token || (conn && conn[1] !== id)) return end(res, 401, 'unauthorized');
      if (conn) return end(res, 200, JSON.stringify({ v: 1, prefix: this.prefix, mqtt: this.mqttUrl, ws: this.wsUrl }), 'application/json');
      return this.serveBlob(blob![1]!, req, res);
    }
    for (const [prefix, dir] of Object.entries(this.o.static ?? {})) {
      if (!url.pathname.startsWith(prefix)) continue;
      const rel = normalize(url.pathname.slice(prefix.length) || 'index.html');
      if (rel.startsWith('..')) return end(res, 403, 'forbidden');
      try {
        const body = await readFile(join(dir, rel));
        return end(res, 200, body, MIME[extname(rel)] ?? 'application/octet-stream');
      } catch {
        return end(res, 404, 'not found');
      }
    }
    end(res, 404, 'not found');
  }

  private count(digest: string, n: number): void {
    this.sentBytes.set(digest, (this.sentBytes.get(digest) ?? 0) + n);
  }

  private serveBlob(digest: string, req: IncomingMessage, res: ServerResponse): void {
    const real = this.blobs.get(digest);
    this.httpRequests.push({ digest, range: req.headers.range ?? null });
    if (!real) return end(res, 404, 'no such blob');
    const blob = padded(real, this.inflate.get(digest) ?? real.length);
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    const body = blob.subarray(start);
    const headers = {
      'accept-ranges': 'bytes',
      etag: `"${digest}"`,
      'content-type': 'application/octet-stream',
      ...(this.httpNoLength ? {} : { 'content-length': String(body.length) }),
    };
    if (m) res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${blob.length - 1}/${blob.length}` });
    else res.writeHead(200, headers);
    if (this.httpCutAfter !== null && !m && body.length > this.httpCutAfter) {
      const cut = this.httpCutAfter;
      this.count(digest, cut);
      res.write(body.subarray(0, cut), () => res.destroy());
      return;
    }
    this.count(digest, body.length);
    res.end(body);
  }
}

const MIME: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
};

/** `blob` followed by zeros up to `size` bytes (the blob itself when it is that long already). */
function padded(blob: Uint8Array, size: number): Uint8Array {
  if (size <= blob.length) return blob;
  const out = new Uint8Array(size);
  out.set(blob);
  return out;
}

function end(res: ServerResponse, status: number, body: string | Uint8Array, type = 'text/plain'): void {
  res.writeHead(status, { 'content-type': type });
  res.end(body);
}
