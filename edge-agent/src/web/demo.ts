// The demo page's script: runs the agent from URL parameters and exposes `window.flotillaDemo` for tests.
import { createBrowserAgent, type Agent, type Prediction, type ProviderChoice } from '../browser.ts';

/** What the demo needs, from the page URL or a test. */
export interface DemoConfig {
  deviceId: string;
  token: string;
  mqttUrl?: string;
  server?: string;
  trustedKey: string;
  /** URL prefix of the ort-wasm files; default: the wasm file vite emitted beside the bundle. */
  ortPath?: string;
  windowSec?: number;
  /** Offer the GPU: the agent probes each model on WebGPU. */
  gpu?: 'webgpu';
}

const log = (line: string) => {
  const el = document.getElementById('log');
  if (el) el.textContent += `${line}\n`;
};

let agent: Agent | null = null;

/** Starts the agent (once per page) and resolves when a model serves. */
async function start(c: DemoConfig): Promise<{ modelAtStart: string | null; model: string }> {
  agent ??= await createBrowserAgent({
    deviceId: c.deviceId,
    token: c.token,
    mqttUrl: c.mqttUrl,
    server: c.server,
    trustedKeys: [c.trustedKey],
    ort: c.ortPath ? { wasmPaths: c.ortPath } : {},
    gpu: c.gpu,
    telemetry: { windowSec: c.windowSec ?? 60 },
    backoff: { minMs: 200, maxMs: 2000 },
  });
  const a = agent;
  const modelAtStart = a.model?.version ?? null;
  a.on('state', (s) => log(`state ${s.from} → ${s.to}: ${s.reason}`));
  a.on('model', (m) => log(`model ${m.model?.name} ${m.model?.version}`));
  if (!a.model) await a.once('model', (m) => m.model !== null);
  await a.settled();
  return { modelAtStart, model: a.model!.version };
}

/** Predicts one row and pushes a telemetry window out. */
async function predict(row: number[]): Promise<Omit<Prediction, 'outputs'> & { outputs: Record<string, number[]> }> {
  if (!agent) throw new Error('start() first');
  const p = await agent.predict(row);
  log(`predicted ${p.top1} (${p.label}) with ${p.confidence.toFixed(3)} in ${p.latencyMs.toFixed(2)} ms`);
  await agent.flushTelemetry();
  return { ...p, outputs: Object.fromEntries(Object.entries(p.outputs).map(([k, v]) => [k, Array.from(v)])) };
}

/** Which execution provider serves the model, and why. */
async function provider(): Promise<ProviderChoice | null> {
  return agent?.executionProvider ?? null;
}

async function backlog(): Promise<number> {
  return agent?.telemetryBacklog ?? -1;
}

async function stop(): Promise<void> {
  await agent?.close();
  agent = null;
}

declare global {
  interface Window {
    flotillaDemo: { start: typeof start; predict: typeof predict; backlog: typeof backlog; stop: typeof stop; provider: typeof provider };
  }
}
window.flotillaDemo = { start, predict, backlog, stop, provider };

const q = new URLSearchParams(location.search);
if (q.get('device') && q.get('token') && q.get('key')) {
  start({
    deviceId: q.get('device')!,
    token: q.get('token')!,
    mqttUrl: q.get('mqtt') ?? undefined,
    server: q.get('server') ?? undefined,
    trustedKey: q.get('key')!,
    ortPath: q.get('ort') ?? undefined,
  })
    .then(() => predict(new Array(16).fill(0.5)))
    .catch((err) => log(`error: ${err?.message ?? err}`));
}
