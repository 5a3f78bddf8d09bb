// [WIRE-2.9] Every string and array a device sends is bounded: a hostile device's message is refused with an
// error that names the field and the limit, and a message exactly at the limits is still accepted.
import { describe, expect, it } from 'vitest';
import { ChunkResponseHeader, parseMessage, ReportedState, SampleBatch, StatusEvent, TelemetryWindow, WIRE_LIMITS } from './messages.ts';

const L = WIRE_LIMITS;
const at = '2026-01-01T00:00:00.000Z';
const hist = (n: number) => ({ edges: Array.from({ length: n + 1 }, (_, i) => i), counts: Array.from({ length: n }, () => 1) });
const model = { name: 'digits', version: '1.0.0', sequence: 3 };

function telemetryWindow(over: Record<string, unknown> = {}) {
  return {
    v: 1,
    seq: 1,
    start: at,
    end: at,
    model,
    requests: 10,
    errors: 0,
    latencyMs: { p50: 1, p95: 2, p99: 3, hist: hist(4) },
    predictions: [5, 5],
    confidence: hist(10),
    features: { mean: [1, 2, 3] },
    feedback: { labelled: 0, correct: 0 },
    shadow: null,
    dropped: 0,
    ...over,
  };
}

const parse = (schema: Parameters<typeof parseMessage>[0], m: unknown) => parseMessage(schema, JSON.stringify(m));
const error = (schema: Parameters<typeof parseMessage>[0], m: unknown) => {
  const r = parse(schema, m);
  return r.ok ? 'accepted' : r.error;
};

describe('device message limits [WIRE-2.9]', () => {
  it('reads clientErrors when an agent sends it, and accepts windows of older agents without it [WIRE-2.5.2]', () => {
    expect(parse(TelemetryWindow, telemetryWindow())).toMatchObject({ ok: true, value: { requests: 10 } });
    expect((parse(TelemetryWindow, telemetryWindow()) as { value: { clientErrors?: number } }).value.clientErrors).toBeUndefined();
    expect(parse(TelemetryWindow, telemetryWindow({ clientErrors: 3 }))).toMatchObject({ ok: true, value: { clientErrors: 3 } });
    expect(error(TelemetryWindow, telemetryWindow({ clientErrors: -1 }))).toMatch(/clientErrors/);
    expect(error(TelemetryWindow, telemetryWindow({ clientErrors: 1.5 }))).toMatch(/clientErrors/);
  });

  it('accepts a telemetry window exactly at every limit', () => {
    const names = Array.from({ length: L.features }, (_, i) => `f${i}`.padEnd(L.nameChars, 'x'));
    const w = telemetryWindow({
      model: { name: 'm'.repeat(L.nameChars), version: 'v'.repeat(L.versionChars), sequence: 1 },
      predictions: Array(L.classes).fill(0),
      latencyMs: { p50: 1, p95: 1, p99: 1, hist: hist(L.bins) },
      features: Object.fromEntries(names.map((n) => [n, Array(L.bins).fill(0)])),
      feedback: { labelled: 0, correct: 0, byClass: { labelled: Array(L.classes).fill(0), correct: Array(L.classes).fill(0) } },
    });
    expect(parse(TelemetryWindow, w).ok).toBe(true);
  });

  it('refuses each string one character too long, naming the field and the limit', () => {
    expect(error(TelemetryWindow, telemetryWindow({ model: { ...model, name: 'm'.repeat(L.nameChars + 1) } }))).toBe(
      `model.name: at most ${L.nameChars} characters`,
    );
    expect(error(TelemetryWindow, telemetryWindow({ model: { ...model, version: 'v'.repeat(L.versionChars + 1) } }))).toBe(
      `model.version: at most ${L.versionChars} characters`,
    );
    expect(error(TelemetryWindow, telemetryWindow({ start: 'x'.repeat(L.timeChars + 1) }))).toBe(
      `start: at most ${L.timeChars} characters`,
    );
    const shadow = { model: { ...model, name: 'n'.repeat(1_000_000) }, requests: 0, errors: 0, agreements: 0, latencyP95Ms: 0 };
    expect(error(TelemetryWindow, telemetryWindow({ shadow }))).toBe(`shadow.model.name: at most ${L.nameChars} characters`);
    expect(error(TelemetryWindow, telemetryWindow({ features: { ['k'.repeat(L.nameChars + 1)]: [1] } }))).toBe(
      `features: feature names have 1 to ${L.nameChars} characters`,
    );
    expect(error(TelemetryWindow, telemetryWindow({ model: { ...model, name: '' } }))).toBe('model.name: must not be empty');
    const reported = {
      v: 1,
      agentVersion: '1',
      runtime: 'ort',
      state: 'idle',
      model: { ...model, name: 'x'.repeat(L.nameChars + 1) },
      bundleId: null,
      freeStorageBytes: null,
      lastError: null,
      at,
    };
    expect(error(ReportedState, reported)).toBe(`model.name: at most ${L.nameChars} characters`);
    expect(error(ReportedState, { ...reported, model, at: 'y'.repeat(1000) })).toBe(`at: at most ${L.timeChars} characters`);
    expect(error(ReportedState, { ...reported, model, executionProvider: 'w'.repeat(33) })).toBe(
      'executionProvider: at most 32 characters',
    );
    expect(ReportedState.safeParse({ ...reported, model, executionProvider: 'webgpu' }).success).toBe(true);
    expect(
      error(StatusEvent, { v: 1, seq: 0, bundleId: null, from: 'idle', to: 'idle', event: 'e'.repeat(L.idChars + 1), reason: '', at }),
    ).toBe(`event: at most ${L.idChars} characters`);
    expect(error(ChunkResponseHeader, { v: 1, cid: 'c'.repeat(L.idChars + 1), digest: 'a'.repeat(64), ok: false, code: 'BUSY' })).toBe(
      `cid: at most ${L.idChars} characters`,
    );
    const item = { predictionId: 'p', input: '', shape: [1], prediction: 0, confidence: 1, label: null, at: 'z'.repeat(L.timeChars + 1) };
    expect(error(SampleBatch, { v: 1, seq: 0, items: [item] })).toBe(`items.0.at: at most ${L.timeChars} characters`);
  });

  it('refuses arrays and maps one entry too many', () => {
    expect(error(TelemetryWindow, telemetryWindow({ predictions: Array(L.classes + 1).fill(0) }))).toBe(
      `predictions: at most ${L.classes} classes`,
    );
    const byClass = { labelled: Array(L.classes + 1).fill(0), correct: [] };
    expect(error(TelemetryWindow, telemetryWindow({ feedback: { labelled: 0, correct: 0, byClass } }))).toBe(
      `feedback.byClass.labelled: at most ${L.classes} classes`,
    );
    const features = Object.fromEntries(Array.from({ length: L.features + 1 }, (_, i) => [`f${i}`, [1]]));
    expect(error(TelemetryWindow, telemetryWindow({ features }))).toBe(`features: at most ${L.features} features`);
    expect(error(TelemetryWindow, telemetryWindow({ confidence: hist(L.bins + 1) }))).toMatch(
      /^confidence\.edges: .*; confidence\.counts: /,
    );
  });

  it('says what is wrong with something that is not JSON at all', () => {
    expect(parseMessage(TelemetryWindow, new Uint8Array([0xff, 0xfe]))).toEqual({ ok: false, error: 'not UTF-8 JSON' });
  });
});
