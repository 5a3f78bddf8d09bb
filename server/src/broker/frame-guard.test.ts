// The frame guard against real encoded MQTT packets, split at every byte, and against lying headers.
import mqtt from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { FrameGuard } from './frame-guard.ts';

const enc = (p: object) => new Uint8Array(mqtt.generate(p as never));
const publish = (bytes: number) =>
  enc({ cmd: 'publish', topic: 't/x', payload: Buffer.alloc(bytes, 1), qos: 1, messageId: 7, retain: false, dup: false });

describe('FrameGuard', () => {
  it('passes a stream of valid packets fed one byte at a time and ends on a boundary', () => {
    const stream = Buffer.concat([
      enc({ cmd: 'connect', clientId: 'a', protocolVersion: 4, keepalive: 10, clean: true }),
      publish(10),
      publish(300),
      publish(20_000),
      enc({ cmd: 'pingreq' }),
    ]);
    const g = new FrameGuard(64 * 1024);
    for (const b of stream) expect(g.feed(Uint8Array.of(b))).toBeNull();
    expect(g.midPacket).toBe(false);
  });

  it('refuses a declared 256 MB packet from its first five bytes, without its body', () => {
    const g = new FrameGuard(1024 * 1024);
    // PUBLISH with remaining length 268,435,455 (the MQTT maximum), body never sent.
    expect(g.feed(Uint8Array.of(0x30, 0xff, 0xff, 0xff, 0x7f))).toBe('PACKET_TOO_LARGE');
  });

  it('refuses as soon as the partial varint already exceeds the limit', () => {
    const g = new FrameGuard(1000);
    expect(g.feed(Uint8Array.of(0x30, 0xff))).toBeNull();
    expect(g.feed(Uint8Array.of(0xff))).toBe('PACKET_TOO_LARGE');
  });

  it('refuses a fifth length byte as malformed [MQTT 2.2.3]', () => {
    expect(new FrameGuard(1 << 30).feed(Uint8Array.of(0x30, 0x80, 0x80, 0x80, 0x80, 0x01))).toBe('MALFORMED_LENGTH');
  });

  it('counts the fixed header into the limit, and the limit can be raised mid-stream', () => {
    const p = publish(100);
    expect(new FrameGuard(p.length).feed(p)).toBeNull();
    expect(new FrameGuard(p.length - 1).feed(p)).toBe('PACKET_TOO_LARGE');
    const g = new FrameGuard(50);
    expect(g.feed(enc({ cmd: 'pingreq' }))).toBeNull();
    g.limit = 1000;
    expect(g.feed(p)).toBeNull();
  });

  it('reports a packet in progress, so a trickle can be timed out', () => {
    const g = new FrameGuard(1000);
    const p = publish(50);
    g.feed(p.subarray(0, 10));
    expect(g.midPacket).toBe(true);
    g.feed(p.subarray(10));
    expect(g.midPacket).toBe(false);
  });
});
