import { describe, expect, it } from 'vitest';
import { parseLogLine } from './mosquitto-log-events.ts';

// Lines as Mosquitto 2.0.11 publishes them on $SYS/broker/log/N.
describe('parseLogLine', () => {
  it('reads connections with the username, with or without the timestamp', () => {
    expect(parseLogLine("1795764013: New client connected from 127.0.0.1:45428 as dev-a (p2, c1, k60, u'dev-a').")).toEqual({
      kind: 'connected',
      clientId: 'dev-a',
      username: 'dev-a',
    });
    expect(parseLogLine('New client connected from 127.0.0.1:45428 as dev-b (p2, c1, k60).')).toEqual({
      kind: 'connected',
      clientId: 'dev-b',
      username: null,
    });
  });

  it('reads every way a connection ends', () => {
    for (const line of [
      'Client dev-a disconnected.',
      'Client dev-a closed its connection.',
      'Client dev-a has exceeded timeout, disconnecting.',
      'Socket error on client dev-a, disconnecting.',
    ]) {
      expect(parseLogLine(`1795764013: ${line}`)).toEqual({ kind: 'disconnected', clientId: 'dev-a' });
    }
  });

  it('tells a refused CONNECT from a disconnection, so a borrowed client id never marks its owner offline', () => {
    expect(parseLogLine('1795764013: Client <unknown> disconnected, not authorised.')).toEqual({ kind: 'refused', clientId: null });
    expect(parseLogLine('Client dev-b disconnected, not authorised.')).toEqual({ kind: 'refused', clientId: 'dev-b' });
  });

  it('ignores everything else', () => {
    expect(parseLogLine('1795764013: New connection from 127.0.0.1:45428 on port 18830.')).toBeNull();
    expect(parseLogLine('Client dev-a already connected, closing old connection.')).toBeNull();
    expect(parseLogLine('Client <unknown> disconnected.')).toBeNull();
  });
});
