// The soak in miniature (20 agents, 40 s): a hostile device, a hostile page and a socket flood attack a real
// server process for the whole run while rollouts go round, and the honest agents lose no telemetry.
// Latency goals are the full soak's (`npm run soak`), judged on a quiet machine, not here.
import { describe, expect, it } from 'vitest';
import { runSoak } from '../../server/src/bench/soak/soak.ts';

describe('soak', () => {
  it('honest agents lose nothing and rollouts complete while three attackers run, and each attacker really attacked', async () => {
    // Back to back (the stress mode): rollouts churn the whole run, not once a minute.
    const r = await runSoak({ minutes: 40 / 60, devices: 20, processes: 1, rate: 1, windowSec: 5, floodSockets: 200, rolloutEverySec: 0 });
    expect(r.honest.predictions).toBeGreaterThan(100);
    expect(r.honest.storedRequests).toBe(r.honest.predictions);
    expect(r.problems).toEqual([]);
    expect(r.server.alive).toBe(true);
    expect(r.goals.honestLostNothing).toBe(true);
    expect(r.rollouts.completed).toBeGreaterThan(1);
    expect(r.healthz.samples).toBeGreaterThan(50);
    // The page was turned away at the door every time: no request reached a handler or failed inside.
    expect(Object.keys(r.attacks['hostile page']!.outcomes)).toEqual(['401']);
    expect(r.attacks['hostile page']!.sent).toBeGreaterThan(100);
    // The device got in with its credential, and the server dropped it for what it sent.
    expect(r.attacks['hostile device']!.outcomes.connected).toBeGreaterThan(1);
    expect(r.attacks['hostile device']!.outcomes.closed).toBeGreaterThan(1);
    // What it left in the databases: its tag (read back, so the count works) and its own connection events; none of
    // the telemetry for models it was never given, none of its samples.
    expect(r.server.hostileRows.device_tags).toBe(1);
    expect(r.server.hostileRows.telemetry_windows ?? 0).toBe(0);
    expect(r.server.hostileRows.field_samples ?? 0).toBe(0);
    // Idle sockets were opened, and closed by the server rather than held.
    expect(r.attacks['socket flood']!.outcomes['closed by server']).toBeGreaterThan(100);
  }, 240_000);
});
