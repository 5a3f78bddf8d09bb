// The agent daemon as a real child process: built once with esbuild (fast start-up), driven through its JSON event lines.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** The bundled `flotilla agent` (edge-agent/dist is git-ignored); onnxruntime-node stays external (native). */
export const AGENT_BUNDLE = join(REPO, 'edge-agent/dist/node/flotilla-agent.mjs');

/**
 * Bundles edge-agent/bin/flotilla-agent.ts into one ESM file. A child started from it is ready in
 * a fraction of the time tsx needs to resolve and transform a few hundred modules, which is what
 * lets the crash test run 50+ kill-and-restart trials in about a minute.
 */
export async function buildAgentBundle(): Promise<string> {
  await build({
    entryPoints: [join(REPO, 'edge-agent/bin/flotilla-agent.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['onnxruntime-node'],
    outfile: AGENT_BUNDLE,
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    logLevel: 'warning',
  });
  return AGENT_BUNDLE;
}

/** One JSON event line of `flotilla agent --json`. */
export type AgentLine = { type: string } & Record<string, any>;

/** A running agent child process. */
export interface AgentProcess {
  proc: ChildProcess;
  lines: AgentLine[];
  stderr: () => string;
  /** Resolves with the first line (already seen or future) that matches. */
  waitFor(match: (l: AgentLine) => boolean, what: string, timeoutMs?: number): Promise<AgentLine>;
  /** Resolves with the exit code and signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `flotilla agent <args> --json` from the bundle. */
export function spawnAgent(args: string[], env: Record<string, string> = {}): AgentProcess {
  const proc = spawn(process.execPath, [AGENT_BUNDLE, 'agent', ...args, '--json'], {
    cwd: REPO,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: AgentLine[] = [];
  const waiters = new Set<() => void>();
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d) => {
    out += d;
    let nl;
    while ((nl = out.indexOf('\n')) >= 0) {
      const line = out.slice(0, nl);
      out = out.slice(nl + 1);
      try {
        lines.push(JSON.parse(line));
      } catch {
        /* not an event line */
      }
      for (const w of waiters) w();
    }
  });
  proc.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    proc.once('exit', (code, signal) => {
      for (const w of waiters) w();
      r({ code, signal });
    }),
  );
  return {
    proc,
    lines,
    stderr: () => err,
    exited,
    waitFor(match, what, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = lines.find(match);
          if (hit) return done(() => resolve(hit));
          if (proc.exitCode !== null || proc.signalCode !== null)
            done(() =>
              reject(
                new Error(
                  `agent exited (${proc.exitCode ?? proc.signalCode}) before ${what}; stderr:\n${err}\nlines:\n${lines.map((l) => JSON.stringify(l)).join('\n')}`,
                ),
              ),
            );
        };
        const timer = setTimeout(
          () =>
            done(() =>
              reject(
                new Error(`timed out waiting for ${what}; lines:\n${lines.map((l) => JSON.stringify(l)).join('\n')}\nstderr:\n${err}`),
              ),
            ),
          timeoutMs,
        );
        const done = (fn: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          fn();
        };
        waiters.add(check);
        check();
      });
    },
  };
}
