// A deliberately small MQTT 3.1.1 client over a raw socket (mqtt-packet for framing), light enough
// that one process can hold ten thousand of them; used by the broker benchmark and its tests.
import { EventEmitter } from 'node:events';
import { connect as netConnect, type Socket } from 'node:net';
import mqtt, { type IPublishPacket, type Packet } from 'mqtt-packet';

export interface RawConnectOptions {
  host?: string;
  port: number;
  clientId: string;
  username?: string;
  password?: string;
  /** Default true. */
  clean?: boolean;
  /** Seconds; default 0 (no keepalive, so idle clients cost nothing). */
  keepalive?: number;
  will?: { topic: string; payload: Buffer; qos: 0 | 1; retain: boolean };
  /** Acknowledge QoS 1 deliveries at once (default true); false models a client that never acks. */
  autoAck?: boolean;
  /** Connect timeout in ms (default 10,000). */
  timeoutMs?: number;
}

/** Thrown when the broker answers CONNECT with a non-zero return code. */
export class ConnectRefused extends Error {
  constructor(readonly returnCode: number) {
    super(`connection refused with return code ${returnCode}`);
    this.name = 'ConnectRefused';
  }
}

export class RawMqttClient extends EventEmitter {
  private nextId = 1;
  private readonly pendingAcks = new Map<number, () => void>();
  closed = false;

  private constructor(
    readonly socket: Socket,
    private readonly autoAck: boolean,
  ) {
    super();
  }

  /** Connects and resolves after CONNACK 0; rejects with {@link ConnectRefused} or a socket error. */
  static connect(o: RawConnectOptions): Promise<RawMqttClient> {
    return new Promise((resolve, reject) => {
      const socket = netConnect({ host: o.host ?? '127.0.0.1', port: o.port, noDelay: true });
      socket.setNoDelay(true);
      const client = new RawMqttClient(socket, o.autoAck ?? true);
      const parser = mqtt.parser({ protocolVersion: 4 });
      let connected = false;
      const timer = setTimeout(() => fail(new Error('connect timed out')), o.timeoutMs ?? 10_000);
      const fail = (err: Error) => {
        clearTimeout(timer);
        socket.destroy();
        if (!connected) reject(err);
      };
      parser.on('packet', (p: Packet) => {
        if (p.cmd === 'connack') {
          clearTimeout(timer);
          if (p.returnCode !== 0) return fail(new ConnectRefused(p.returnCode ?? -1));
          connected = true;
          resolve(client);
          return;
        }
        client.onPacket(p);
      });
      parser.on('error', (err) => socket.destroy(err));
      socket.on('data', (d) => parser.parse(d));
      socket.on('error', (err) => {
        if (!connected) fail(err);
        else if (client.listenerCount('error') > 0) client.emit('error', err);
      });
      socket.on('close', () => {
        client.closed = true;
        if (!connected) fail(new Error('connection closed before CONNACK'));
        client.emit('close');
      });
      socket.write(
        mqtt.generate({
          cmd: 'connect',
          protocolId: 'MQTT',
          protocolVersion: 4,
          clientId: o.clientId,
          clean: o.clean ?? true,
          keepalive: o.keepalive ?? 0,
          ...(o.username !== undefined ? { username: o.username } : {}),
          ...(o.password !== undefined ? { password: Buffer.from(o.password) } : {}),
          ...(o.will ? { will: { ...o.will } } : {}),
        } as never),
      );
    });
  }

  /** Publishes; with QoS 1 the promise resolves on PUBACK. */
  publish(topic: string, payload: Buffer | string, qos: 0 | 1 = 1, retain = false): Promise<void> {
    const messageId = qos > 0 ? this.allocateId() : undefined;
    const ok = this.socket.write(
      mqtt.generate({ cmd: 'publish', topic, payload, qos, retain, dup: false, ...(messageId ? { messageId } : {}) } as IPublishPacket),
    );
    if (!messageId) return ok ? Promise.resolve() : new Promise((r) => this.socket.once('drain', () => r()));
    return new Promise((r) => this.pendingAcks.set(messageId, r));
  }

  /** Sends a PUBLISH without waiting for anything; returns whether the socket accepted it without buffering. */
  publishNoWait(topic: string, payload: Buffer, qos: 0 | 1 = 1): boolean {
    const messageId = qos > 0 ? this.allocateId() : undefined;
    return this.socket.write(
      mqtt.generate({
        cmd: 'publish',
        topic,
        payload,
        qos,
        retain: false,
        dup: false,
        ...(messageId ? { messageId } : {}),
      } as IPublishPacket),
    );
  }

  /** Subscribes; resolves to the granted QoS per filter (128 = refused). */
  subscribe(filters: string[], qos: 0 | 1 = 1): Promise<number[]> {
    const messageId = this.allocateId();
    this.socket.write(mqtt.generate({ cmd: 'subscribe', messageId, subscriptions: filters.map((topic) => ({ topic, qos })) } as never));
    return new Promise((r) => this.pendingAcks.set(messageId, r as never));
  }

  /** Sends DISCONNECT and closes (no will is published). */
  end(): void {
    if (this.closed) return;
    this.socket.end(mqtt.generate({ cmd: 'disconnect' }));
  }

  private allocateId(): number {
    const id = this.nextId;
    this.nextId = this.nextId >= 65535 ? 1 : this.nextId + 1;
    return id;
  }

  private onPacket(p: Packet): void {
    if (p.cmd === 'publish') {
      if (p.qos > 0 && this.autoAck) this.socket.write(mqtt.generate({ cmd: 'puback', messageId: p.messageId! }));
      this.emit('message', p);
    } else if (p.cmd === 'puback') {
      const r = this.pendingAcks.get(p.messageId!);
      this.pendingAcks.delete(p.messageId!);
      r?.();
    } else if (p.cmd === 'suback') {
      const r = this.pendingAcks.get(p.messageId!) as ((g: number[]) => void) | undefined;
      this.pendingAcks.delete(p.messageId!);
      r?.(p.granted as number[]);
    }
  }
}
