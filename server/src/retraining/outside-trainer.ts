// Runs a retraining policy's outside trainer and returns the ONNX bytes it made. A command trainer runs as a
// child process (argv, no shell) in its own process group, killed whole at the time limit; it reads the job
// from the manifest named by FLOTILLA_TRAINER_MANIFEST and writes model.onnx where the manifest's `output`
// says (or prints a path on its last stdout line). An HTTP trainer gets the same manifest as a JSON POST,
// with the files inline as base64 when they are small (or when there are no download URLs), and answers
// with the ONNX bytes. Every failure is a RetrainingError
// whose code and message say what went wrong; nothing here registers anything.
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { RetrainingError } from './retraining-error.ts';
import type { OutsideTrainer } from './retraining-policy.ts';

/** Largest ONNX file a trainer may return (bytes), the same as an import. */
export const MAX_TRAINER_OUTPUT = 256 * 1024 * 1024;
/** Largest JSON body POSTed to an HTTP trainer (bytes). */
export const MAX_HTTP_TRAINER_REQUEST = 256 * 1024 * 1024;
/**
 * Most bytes of files sent inline (before base64) to an HTTP trainer when the manifest has download URLs:
 * larger jobs go by URL only, so the POST stays small and the trainer streams what it needs.
 */
export const MAX_INLINE_FILES = 8 * 1024 * 1024;
/** Characters of a failing trainer's stderr kept in the job's error. */
const TAIL = 2000;

/** What a trainer is given: the manifest (as written to disk) and, for HTTP trainers, the files' bytes. */
export interface TrainerJob {
  /** Path of the manifest JSON on disk (command trainers). */
  manifestPath: string;
  manifest: Record<string, unknown> & { output: string };
  /** File name (a key of `manifest.files`) → bytes, sent inline to HTTP trainers. */
  files: Record<string, Uint8Array>;
}

const tail = (s: string) => (s.length > TAIL ? `…${s.slice(-TAIL)}` : s).trim();

/** Only what a trainer needs from the server's environment: never its tokens or database URLs. */
function trainerEnv(job: TrainerJob): NodeJS.ProcessEnv {
  const keep = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TMPDIR', 'PYTHONPATH', 'VIRTUAL_ENV', 'CUDA_VISIBLE_DEVICES'];
  const env: NodeJS.ProcessEnv = {};
  for (const k of keep) if (process.env[k] !== undefined) env[k] = process.env[k];
  return { ...env, FLOTILLA_TRAINER_MANIFEST: job.manifestPath, FLOTILLA_TRAINER_OUTPUT: job.manifest.output };
}

async function readOutput(path: string, what: string): Promise<Uint8Array> {
  const size = statSync(path).size;
  if (size === 0) throw new RetrainingError('TRAINER_OUTPUT_INVALID', `${what} is empty`);
  if (size > MAX_TRAINER_OUTPUT)
    throw new RetrainingError('TRAINER_OUTPUT_INVALID', `${what} is ${size} bytes; at most ${MAX_TRAINER_OUTPUT} are accepted`);
  return new Uint8Array(await readFile(path));
}

/** Runs a command trainer to completion or its time limit. */
export async function runCommandTrainer(t: Extract<OutsideTrainer, { kind: 'command' }>, job: TrainerJob): Promise<Uint8Array> {
  const [program, ...args] = t.command;
  const child = spawn(program!, args, { cwd: t.cwd, env: trainerEnv(job), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout = (stdout + d.toString()).slice(-16 * 1024)));
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-16 * 1024)));
  let timedOut = false;
  // The whole process group goes: a trainer's own workers (data loaders, a shell's children) must not outlive it.
  const killGroup = () => {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  };
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup();
  }, t.timeoutSec * 1000);
  const ended = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((res) => {
    child.once('error', (error) => res({ code: null, signal: null, error }));
    child.once('close', (code, signal) => res({ code, signal }));
  }).finally(() => clearTimeout(timer));
  if (ended.error) throw new RetrainingError('TRAINER_FAILED', `the trainer command '${program}' could not start: ${ended.error.message}`);
  killGroup();
  if (timedOut)
    throw new RetrainingError(
      'TRAINER_TIMEOUT',
      `the trainer ran past its limit of ${t.timeoutSec} s and was killed; raise trainer.timeoutSec or train less. stderr: ${tail(stderr) || '(empty)'}`,
    );
  if (ended.code !== 0) {
    throw new RetrainingError(
      'TRAINER_FAILED',
      `the trainer exited with ${ended.code ?? `signal ${ended.signal}`}; stderr: ${tail(stderr) || '(empty)'}`,
    );
  }
  if (existsSync(job.manifest.output)) return readOutput(job.manifest.output, `the trainer's ${job.manifest.output}`);
  const printed = stdout.trim().split('\n').at(-1)?.trim();
  const path = printed ? (isAbsolute(printed) ? printed : resolve(t.cwd ?? process.cwd(), printed)) : null;
  if (path && existsSync(path) && statSync(path).isFile()) return readOutput(path, `the trainer's output ${path}`);
  throw new RetrainingError(
    'TRAINER_NO_OUTPUT',
    `the trainer exited 0 but wrote no ${job.manifest.output} (and its last stdout line names no file); stderr: ${tail(stderr) || '(empty)'}`,
  );
}

/** POSTs the job to an HTTP trainer; its answer's body is the ONNX file, counted while it streams in. */
export async function runHttpTrainer(t: Extract<OutsideTrainer, { kind: 'http' }>, job: TrainerJob): Promise<Uint8Array> {
  const { files: _paths, output: _out, ...rest } = job.manifest;
  const total = Object.values(job.files).reduce((a, v) => a + v.byteLength, 0);
  // With download URLs, only a small job's files also travel inline; without them (no HTTP here) all do.
  const inline = !rest.urls || total <= MAX_INLINE_FILES;
  const data = inline
    ? Object.fromEntries(
        Object.entries(job.files).map(([k, v]) => [k, Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64')]),
      )
    : undefined;
  const body = JSON.stringify({ ...rest, ...(data ? { data } : {}) });
  if (body.length > MAX_HTTP_TRAINER_REQUEST)
    throw new RetrainingError(
      'TRAINER_FAILED',
      `the job is ${body.length} bytes as JSON, over the ${MAX_HTTP_TRAINER_REQUEST} an HTTP trainer is sent; use a command trainer or fewer field samples`,
    );
  const signal = AbortSignal.timeout(t.timeoutSec * 1000);
  let res: Response;
  try {
    res = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/octet-stream' },
      body,
      signal,
    });
  } catch (e) {
    if (signal.aborted) throw new RetrainingError('TRAINER_TIMEOUT', `the HTTP trainer ${t.url} did not answer within ${t.timeoutSec} s`);
    throw new RetrainingError('TRAINER_FAILED', `the HTTP trainer ${t.url} is unreachable: ${(e as Error).cause ?? (e as Error).message}`);
  }
  try {
    if (!res.ok) throw new RetrainingError('TRAINER_FAILED', `the HTTP trainer answered ${res.status}: ${tail(await res.text())}`);
    const chunks: Uint8Array[] = [];
    let n = 0;
    const reader = res.body?.getReader();
    for (let r = await reader?.read(); reader && r && !r.done; r = await reader.read()) {
      const c = r.value;
      n += c.byteLength;
      if (n > MAX_TRAINER_OUTPUT) {
        await reader.cancel();
        throw new RetrainingError('TRAINER_OUTPUT_INVALID', `the HTTP trainer's answer exceeds ${MAX_TRAINER_OUTPUT} bytes`);
      }
      chunks.push(c);
    }
    if (n === 0)
      throw new RetrainingError(
        'TRAINER_OUTPUT_INVALID',
        'the HTTP trainer answered with an empty body; it must answer with the ONNX file',
      );
    return Buffer.concat(chunks);
  } catch (e) {
    if (signal.aborted && !(e instanceof RetrainingError))
      throw new RetrainingError('TRAINER_TIMEOUT', `the HTTP trainer ${t.url} did not finish its answer within ${t.timeoutSec} s`);
    throw e;
  }
}

/** Runs whichever trainer the policy names. */
export function runOutsideTrainer(t: OutsideTrainer, job: TrainerJob): Promise<Uint8Array> {
  return t.kind === 'command' ? runCommandTrainer(t, job) : runHttpTrainer(t, job);
}
