// Rollout transitions reach the event publisher after each write, in order: pause, resume, a forced
// advance, abort, and nothing for an action the machine refuses.
import { afterAll, describe, expect, it } from 'vitest';
import { request, rig, scratch } from '@flotilla/test/support/rollout-test-kit';
import type { EventType } from '../events/cloud-event.ts';
import type { EventPublisher } from '../events/event-publisher.ts';

const tmp = scratch();
afterAll(() => tmp.cleanup());

/** A recording double of the publish port (the seam under test is the engine's side of it). */
function recorder() {
  const got: { type: EventType; subject: string; data: Record<string, unknown> }[] = [];
  const events: EventPublisher = {
    publish: async (type, subject, data) => {
      got.push({ type, subject, data: data as Record<string, unknown> });
      return null;
    },
  };
  return { got, events };
}

describe('rollout events', () => {
  it('publishes each transition once, in order, with who and why', async () => {
    const { got, events } = recorder();
    const r = rig(tmp.open('events'), {}, { events });
    r.fleet.add(10);
    const { id } = await r.engine.create(request([50, 100], { reason: 'ship it' }), 'tok_op');
    await r.engine.act(id, 'pause', 'tok_op', 'looks odd');
    await expect(r.engine.act(id, 'pause', 'tok_op', 'again')).rejects.toMatchObject({ code: 'ILLEGAL_TRANSITION' });
    await r.engine.act(id, 'resume', 'tok_op', 'fine');
    await r.engine.act(id, 'advance', 'tok_op', 'skip the bake');
    await r.engine.act(id, 'abort', 'tok_admin', 'stop');
    expect(got.map((e) => e.type)).toEqual([
      'rollout.created',
      'rollout.started',
      'rollout.paused',
      'rollout.resumed',
      'rollout.stage_passed',
      'rollout.aborted',
    ]);
    expect(got.every((e) => e.subject === id)).toBe(true);
    expect(got[0]!.data).toMatchObject({ rolloutId: id, model: 'digits', actor: 'tok_op', reason: 'ship it', stages: 2 });
    expect(got[2]!.data).toMatchObject({ from: 'running', to: 'paused', actor: 'tok_op', reason: 'looks odd' });
    expect(got[4]!.data).toMatchObject({ kind: 'advance', detail: { from: 0, to: 1 } });
    expect(got[5]!.data).toMatchObject({ from: 'running', to: 'aborted', actor: 'tok_admin', stage: 1 });
  });
});
