// A `flotilla server` child process for the rollout benchmark, and the helpers it needs against it.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileBlobStore } from '../blob/file-blob-store.ts';
import { openSqliteStore } from '../store/sqlite/sqlite-store.ts';

const REPO = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');

export interface BenchServer {
  url: string;
  mqttUrl: string;
  token: string;
  dataDir: string;
  /** The server's process id (for its CPU time). */
  pid: number;
  api<T = any>(method: string, path: string, body?: unknown): Promise<T>;
  /** `flotilla_chunk_bytes_served_total`, all transports together. */
  bytesServed(): Promise<number>;
  /** `flotilla_chunk_requests_total` by outcome (ok, BUSY, …), and `shed`: messages the broker dropped toward devices that were not reading. */
  chunkAnswers(): Promise<Record<string, number>>;
  /** Adds a model version with one ONNX artifact straight into the store (WAL lets it run beside the server). */
  registerOnnx(name: string, onnx: Uint8Array): Promise<number>;
  close(): Promise<void>;
}

/** Starts the server on free ports in a temporary data folder; `env` adds to its environment. */
export async function startBenchServer(env: Record<string, string> = {}): Promise<BenchServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'flotilla-bench-rollout-'));
  const token = `flt_bench_${Math.random().toString(36).slice(2)}`;
  const proc: ChildProcess = spawn(process.execPath, [join(REPO, 'server/bin/flotilla.mjs'), 'server', '--data', dataDir, '--port', '0', '--mqtt-port', '0', '--json'], {
    cwd: REPO, env: { ...process.env, FLOTILLA_ADMIN_TOKEN: token, FLOTILLA_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-20_000)));
  const info = await new Promise<{ url: string; mqttUrl: string }>((res, rej) => {
    let out = '';
    proc.stdout!.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) res(JSON.parse(line));
    });
    proc.once('exit', (code) => rej(new Error(`server exited with ${code}: ${stderr}`)));
  });
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${info.url}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body), headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 500)}`);
    return text ? JSON.parse(text) : null;
  };
  return {
    url: info.url, mqttUrl: info.mqttUrl, token, dataDir, pid: proc.pid!, api,
    async bytesServed() {
      const text = await (await fetch(`${info.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
      return text.split('\n').filter((l) => l.startsWith('flotilla_chunk_bytes_served_total')).reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
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
    async registerOnnx(name, onnx) {
      const blob = await new FileBlobStore(join(dataDir, 'blobs')).put(onnx);
      const store = openSqliteStore(join(dataDir, 'flotilla.db'));
      try {
        const v = await store.models.addVersion({ model: name, runId: null, format: 'onnx', artifacts: { 'model.onnx': blob.digest }, signature: null, metrics: null, quantization: null, tags: [], description: 'rollout benchmark' });
        return v.version;
      } finally {
        await store.close();
      }
    },
    async close() {
      if (proc.exitCode === null) await new Promise((r) => (proc.once('exit', r), proc.kill('SIGTERM')));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
