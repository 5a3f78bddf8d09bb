// Event type filters and webhook signatures: globs match what they say, typos are refused, and a signature
// fails on any change to id, timestamp or body, on a stale timestamp and on another secret.
import { describe, expect, it } from 'vitest';
import { EVENT_TYPES } from './cloud-event.ts';
import { matcher, parseFilters } from './event-filter.ts';
import { newSecret, sign, verify } from './webhook-signature.ts';

describe('event filters', () => {
  it('match exact types, globs and the flotilla. prefix', () => {
    const m = matcher(parseFilters(['rollout.*', 'flotilla.alert.opened']));
    expect(m('flotilla.rollout.stage_passed')).toBe(true);
    expect(m('rollout.created')).toBe(true);
    expect(m('flotilla.alert.opened')).toBe(true);
    expect(m('flotilla.alert.resolved')).toBe(false);
    expect(m('flotilla.model.alias_moved')).toBe(false);
    expect(EVENT_TYPES.every(matcher(parseFilters(['*'])))).toBe(true);
    expect(EVENT_TYPES.filter(matcher(parseFilters(['*.created'])))).toEqual(['bundle.created', 'rollout.created']);
    expect(parseFilters(['rollout.*', 'flotilla.rollout.*', ' rollout.* '])).toEqual(['rollout.*']);
  });

  it('refuse typos, odd characters, empty and overlong lists with the reason', () => {
    expect(() => parseFilters(['rolout.*'])).toThrow(/matches no event type/);
    expect(() => parseFilters(['rollout.(created|paused)'])).toThrow(/may hold only/);
    expect(() => parseFilters(['.*'])).toThrow(/matches no event type/);
    expect(() => parseFilters([])).toThrow(/at least one/);
    expect(() => parseFilters(Array.from({ length: 51 }, () => '*'))).toThrow(/at most 50/);
  });
});

describe('webhook signatures', () => {
  const secret = newSecret();
  const now = 1_800_000_000;
  const h = { id: 'evt-1', timestamp: String(now), signature: sign(secret, 'evt-1', now, '{"a":1}') };

  it('verify what was signed, and nothing else', () => {
    expect(h.signature).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(verify(secret, h, '{"a":1}', now)).toBe(true);
    expect(verify(secret, { ...h, signature: `v1,bogus ${h.signature}` }, '{"a":1}', now)).toBe(true);
    expect(verify(secret, h, '{"a":2}', now)).toBe(false);
    expect(verify(secret, { ...h, id: 'evt-2' }, '{"a":1}', now)).toBe(false);
    expect(verify(secret, { ...h, timestamp: String(now + 1) }, '{"a":1}', now)).toBe(false);
    expect(verify(newSecret(), h, '{"a":1}', now)).toBe(false);
    expect(verify(secret, h, '{"a":1}', now + 301)).toBe(false);
    expect(verify('plain operator secret', { ...h, signature: sign('plain operator secret', 'evt-1', now, 'x') }, 'x', now)).toBe(true);
  });
});
