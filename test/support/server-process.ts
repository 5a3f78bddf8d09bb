// Starts a real `flotilla server` child process on free loopback ports with a temporary data folder.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const FLOTILLA_BIN = join(REPO, 'server/bin/flotilla.mjs');

export interface ServerHandle {
  url: string;
  /** The server's `--json` start line: url, port, mqttUrl, mqttsUrl, wsUrl, dataDir, ... */
  info: { url: string; mqttUrl: string; mqttsUrl: string | null; wsUrl: string | null; [k: string]: unknown };
  token: string;
  dataDir: string;
  proc: ChildProcess;
  /** Everything the server wrote to stderr (JSON logs), for assertions and post-mortems. */
  logs: () => string;
  api<T = any>(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: T }>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Stops and deletes the data folder. */
  dispose(): Promise<void>;
}

export interface StartOptions {
  dataDir?: string;
  token?: string;
  args?: string[];
  env?: Record<string, string>;
  /** Whether dispose() deletes the data folder. Default: only a folder made here (no `dataDir` given). */
  removeOnDispose?: boolean;
}

export async function startServerProcess(o: StartOptions = {}): Promise<ServerHandle> {
  const dataDir = o.dataDir ?? mkdtempSync(join(tmpdir(), 'flotilla-it-'));
  const token = o.token ?? `flt_test_admin_${Math.random().toString(36).slice(2)}`;
  const proc = spawn(
    process.execPath,
    [FLOTILLA_BIN, 'server', '--data', dataDir, '--port', '0', '--mqtt-port', '0', '--json', ...(o.args ?? [])],
    {
      cwd: REPO,
      env: { ...process.env, FLOTILLA_ADMIN_TOKEN: token, FLOTILLA_LOG_LEVEL: 'info', ...o.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const { info, stderr } = await startLine<ServerHandle['info']>(proc, 60_000, 'server');
  const handle: ServerHandle = {
    url: info.url,
    info,
    token,
    dataDir,
    proc,
    logs: stderr,
    async api(method, path, body, tok = token) {
      const res = await fetch(`${info.url}${path}`, {
        method,
        headers: {
          ...(tok ? { authorization: `Bearer ${tok}` } : {}),
          ...(body !== undefined && typeof body !== 'string' ? { 'content-type': 'application/json' } : {}),
        },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: any = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        /* keep text */
      }
      return { status: res.status, body: parsed };
    },
    stop(signal = 'SIGTERM') {
      if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve(proc.exitCode);
      return new Promise((r) => {
        proc.once('exit', (code) => r(code));
        proc.kill(signal);
      });
    },
    async dispose() {
      await handle.stop();
      if (o.removeOnDispose ?? !o.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return handle;
}

/** `--port` and `--mqtt-port` arguments that listen where `srv` listened (the WebSocket broker shares the HTTP port). */
export function samePorts(srv: ServerHandle): string[] {
  return ['--port', new URL(srv.url).port, '--mqtt-port', new URL(srv.info.mqttUrl).port];
}

/**
 * Stops `srv` (SIGTERM; throws unless it exits cleanly) and starts a new server process on the same
 * data folder, admin token and ports, as after a deploy: agents reconnect by themselves. `whileDown`
 * runs while nothing listens (an outage). `o.removeOnDispose` defaults to true: the caller disposes
 * the new handle instead of the old one.
 */
export async function restartServerProcess(
  srv: ServerHandle,
  o: Omit<StartOptions, 'dataDir' | 'token'> & { whileDown?: () => Promise<void> } = {},
): Promise<ServerHandle> {
  const code = await srv.stop();
  if (code !== 0) throw new Error(`server exited with ${code} on SIGTERM; stderr:\n${srv.logs().slice(-4000)}`);
  const { whileDown, args = [], ...rest } = o;
  await whileDown?.();
  return startServerProcess({ removeOnDispose: true, ...rest, dataDir: srv.dataDir, token: srv.token, args: [...samePorts(srv), ...args] });
}

/** Runs the real CLI as a child process and collects its output and exit code. */
export function runCli(
  args: string[],
  env: Record<string, string> = {},
  input?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const p = spawn(process.execPath, [FLOTILLA_BIN, ...args], {
      cwd: REPO,
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.stdin.end(input ?? '');
    p.on('exit', (code) => res({ code, stdout, stderr }));
  });
}

/**
 * The first JSON line a `flotilla server` process prints on stdout (its addresses), and a live view of its
 * stderr for later errors; rejects after `timeoutMs` or when the process exits first, with stderr attached.
 */
export async function startLine<T>(proc: ChildProcess, timeoutMs: number, what: string): Promise<{ info: T; stderr: () => string }> {
  let stderr = '';
  proc.stderr!.on('data', (d) => (stderr += d));
  const info = await new Promise<T>((res, rej) => {
    let out = '';
    const timer = setTimeout(() => rej(new Error(`${what} printed no start line in ${timeoutMs / 1000} s; stderr:\n${stderr}`)), timeoutMs);
    proc.stdout!.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) {
        clearTimeout(timer);
        res(JSON.parse(line));
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`${what} exited with ${code} before listening; stderr:\n${stderr}`));
    });
  });
  return { info, stderr: () => stderr };
}
