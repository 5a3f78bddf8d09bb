import { describe, expect, it } from 'vitest';
import { topicMatches } from './topic-filter.ts';

describe('topicMatches [MQTT-4.7]', () => {
  it.each([
    ['flotilla/v1/devices/+/telemetry', 'flotilla/v1/devices/dev-a/telemetry', true],
    ['flotilla/v1/devices/+/telemetry', 'flotilla/v1/devices/dev-a/status', false],
    ['flotilla/v1/devices/#', 'flotilla/v1/devices/dev-a/chunks/req', true],
    ['flotilla/v1/devices/#', 'flotilla/v1/devices', true],
    ['flotilla/v1/devices/+', 'flotilla/v1/devices/dev-a/chunks/req', false],
    ['a/b', 'a/b/c', false],
    ['a/b/c', 'a/b', false],
    ['#', '$SYS/broker/log/N', false],
    ['+/broker/log/N', '$SYS/broker/log/N', false],
    ['$SYS/broker/log/N', '$SYS/broker/log/N', true],
  ])('%s against %s is %s', (filter, topic, want) => {
    expect(topicMatches(filter, topic)).toBe(want);
  });
});
