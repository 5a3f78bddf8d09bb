// The transition table's invariants: complete, deterministic, and every failure after activation rolls back.
import { DEPLOY_STATES } from '@flotilla/firmware-bundler/wire';
import { describe, expect, it } from 'vitest';
import { allows, nextState, TRANSITIONS } from './transitions.ts';

const steps = DEPLOY_STATES.filter((s) => s !== 'idle');

describe('transition table [WIRE-4.1]', () => {
  it('has one row per (state, event)', () => {
    const keys = TRANSITIONS.map(([f, e]) => `${f}:${e}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('gives every step a success, a failure and a loop-guard exit', () => {
    for (const s of steps) for (const e of ['success', 'failure', 'loop_guard'] as const) expect(allows(s, e), `${s}:${e}`).toBe(true);
  });

  it('routes every failure from activating on through rolling_back, and earlier ones straight to failed', () => {
    for (const s of ['activating', 'probing', 'committing'] as const) expect(nextState(s, 'failure')).toBe('rolling_back');
    for (const s of ['downloading', 'verifying', 'staging'] as const) expect(nextState(s, 'failure')).toBe('failed');
    expect(nextState('rolling_back', 'success')).toBe('failed');
  });

  it('allows cancelling only before anything was activated', () => {
    expect(DEPLOY_STATES.filter((s) => allows(s, 'cancel'))).toEqual([
      'waiting_download',
      'downloading',
      'verifying',
      'staging',
      'waiting_activation',
    ]);
  });

  it('waits before the download and before the activation only, and returns from a wait to the step it held back [WIRE-4.2]', () => {
    expect(DEPLOY_STATES.filter((s) => allows(s, 'wait'))).toEqual(['waiting_download', 'downloading', 'staging', 'waiting_activation']);
    expect(nextState('downloading', 'wait')).toBe('waiting_download');
    expect(nextState('waiting_download', 'success')).toBe('downloading');
    expect(nextState('staging', 'wait')).toBe('waiting_activation');
    expect(nextState('waiting_activation', 'wait')).toBe('waiting_activation');
    expect(nextState('waiting_activation', 'success')).toBe('activating');
    // Nothing was activated while waiting: a failure there goes straight to failed, not through a rollback.
    expect(nextState('waiting_activation', 'failure')).toBe('failed');
  });

  it('reaches every state from idle and returns to idle from every state', () => {
    const reach = (from: string, edges: [string, string][]) => {
      const seen = new Set([from]);
      for (let changed = true; changed;) {
        changed = false;
        for (const [a, b] of edges) {
          if (seen.has(a) && !seen.has(b)) {
            seen.add(b);
            changed = true;
          }
        }
      }
      return seen;
    };
    const forward = TRANSITIONS.map(([f, , t]) => [f, t] as [string, string]);
    expect([...reach('idle', forward)].sort()).toEqual([...DEPLOY_STATES].sort());
    const backward = TRANSITIONS.map(([f, , t]) => [t, f] as [string, string]);
    expect([...reach('idle', backward)].sort()).toEqual([...DEPLOY_STATES].sort());
  });

  it('throws on a transition the table lacks', () => {
    expect(() => nextState('idle', 'success')).toThrow(/no transition/);
  });
});
