// A `flotilla server` child process for the rollout benchmark, and the helpers it needs against it.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { registerOnnxInDataDir } from './register-onnx.ts';

const REPO = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');

export interface BenchServer {
  url: string;
  mqttUrl: string;
  token: string;
  dataDir: string;
  /** The server's process id (for its CPU time). */
  pid: number;
  /** Calls the API as admin; `signal` bounds the call (a soak's accounting must not hang on a stalled server). */
  api<T = any>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T>;
  /** The text of `/metrics`. */
  metrics(signal?: AbortSignal): Promise<string>;
  /** `flotilla_chunk_bytes_served_total`, all transports together. */
  bytesServed(): Promise<number>;
  /** `flotilla_chunk_requests_total` by outcome (ok, BUSY, …), and `shed`: messages the broker dropped toward devices that were not reading. */
  chunkAnswers(): Promise<Record<string, number>>;
  /** Adds a model version with one ONNX artifact straight into the store (WAL lets it run beside the server). */
  registerOnnx(name: string, onnx: Uint8Array): Promise<number>;
  /** How the server process ended (null while it runs): a report says so when it died under load. */
  exited(): { code: number | null; signal: string | null } | null;
  /** The last 20 kB the server wrote to stderr (its warnings and errors). */
  stderrTail(): string;
  /** The last 50 error lines (level error, or not a JSON log line: a crash's stack) the server wrote to stderr. */
  stderrErrors(): string[];
  close(): Promise<void>;
}

/** Rollout spec fields for one 100% stage, no bake, no health gates: the benches measure delivery, not judgement. */
export const DELIVERY_ONLY = {
  stages: [
    {
      percent: 100,
      bakeSec: 0,
      gates: { minReporting: 0, maxErrorRate: null, maxConfidenceDrop: null, maxDriftScore: null, maxFailureRate: 1 },
    },
  ],
  policy: { rate: { devicesPerMinute: 1_000_000 } },
};

/** Starts the server on free ports in a temporary data folder; `env` adds to its environment, `nodeArgs` to its node (`--cpu-prof`). */
export async function startBenchServer(env: Record<string, string> = {}, nodeArgs: string[] = []): Promise<BenchServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'flotilla-bench-rollout-'));
  const token = `flt_bench_${Math.random().toString(36).slice(2)}`;
  const proc: ChildProcess = spawn(
    process.execPath,
    [...nodeArgs, join(REPO, 'server/bin/flotilla.mjs'), 'server', '--data', dataDir, '--port', '0', '--mqtt-port', '0', '--json'],
    {
      cwd: REPO,
      env: { ...process.env, FLOTILLA_ADMIN_TOKEN: token, FLOTILLA_LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  // Error lines are also kept apart: a flood of warnings (a hostile device's refused messages) must not push them out.
  const errorLines: string[] = [];
  let partial = '';
  proc.stderr!.on('data', (d) => {
    stderr = (stderr + d).slice(-20_000);
    const lines = (partial + d).split('\n');
    partial = lines.pop()!.slice(-10_000);
    for (const l of lines) if (l && (!l.startsWith('{') || l.includes('"level":"error"'))) errorLines.push(l.slice(0, 2000));
    errorLines.splice(0, Math.max(0, errorLines.length - 50));
  });
  let ended: { code: number | null; signal: string | null } | null = null;
  proc.once('exit', (code, signal) => (ended = { code, signal }));
  const info = await new Promise<{ url: string; mqttUrl: string }>((res, rej) => {
    let out = '';
    proc.stdout!.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) res(JSON.parse(line));
    });
    proc.once('exit', (code) => rej(new Error(`server exited with ${code}: ${stderr}`)));
  });
  const api = async (method: string, path: string, body?: unknown, signal?: AbortSignal) => {
    const res = await fetch(`${info.url}${path}`, {
      method,
      signal,
      body: body === undefined ? undefined : JSON.stringify(body),
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 500)}`);
    return text ? JSON.parse(text) : null;
  };
  return {
    url: info.url,
    mqttUrl: info.mqttUrl,
    token,
    dataDir,
    pid: proc.pid!,
    api,
    async metrics(signal) {
      const res = await fetch(`${info.url}/metrics`, { signal, headers: { authorization: `Bearer ${token}` } });
      if (!res.ok) throw new Error(`GET /metrics: ${res.status}`);
      return res.text();
    },
    async bytesServed() {
      const text = await (await fetch(`${info.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
      return text
        .split('\n')
        .filter((l) => l.startsWith('flotilla_chunk_bytes_served_total'))
        .reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
    },
    async chunkAnswers() {
      const text = await (await fetch(`${info.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
      const out: Record<string, number> = {};
      for (const l of text.split('\n')) {
        const m = /^flotilla_chunk_requests_total\{outcome="([^"]+)"\} (\S+)/.exec(l);
        if (m) out[m[1]!] = Number(m[2]);
        if (l.startsWith('flotilla_mqtt_device_outbound_shed_total')) out.shed = (out.shed ?? 0) + Number(l.split(' ').at(-1));
      }
      return out;
    },
    registerOnnx: async (name, onnx) => (await registerOnnxInDataDir(dataDir, name, onnx, 'rollout benchmark')).version,
    exited: () => ended,
    stderrTail: () => stderr,
    stderrErrors: () => [...errorLines],
    async close() {
      if (proc.exitCode === null && proc.signalCode === null) await new Promise((r) => (proc.once('exit', r), proc.kill('SIGTERM')));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
