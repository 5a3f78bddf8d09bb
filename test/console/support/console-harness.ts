// A real server for the console's e2e tests: started as a child process with the console built, plus
// tokens for each role, a small dataset that trains in seconds, and a check for routes still being built.
import { startServerProcess, type ServerHandle } from '../../support/server-process.ts';
import { ensureConsoleBuilt } from './build-console.ts';

export interface ConsoleServer {
  srv: ServerHandle;
  url: string;
  /** MQTT over WebSocket on the HTTP port, for simulated devices. */
  wsUrl: string;
  tokens: { admin: string; operator: string; viewer: string };
}

export async function issueToken(srv: ServerHandle, name: string, role: 'viewer' | 'operator' | 'admin'): Promise<string> {
  const r = await srv.api('POST', '/api/v1/tokens', { name, role });
  if (r.status !== 201) throw new Error(`could not issue a ${role} token: ${JSON.stringify(r.body)}`);
  return r.body.token as string;
}

export async function startConsoleServer(): Promise<ConsoleServer> {
  ensureConsoleBuilt();
  const srv = await startServerProcess();
  const [operator, viewer] = await Promise.all([
    issueToken(srv, 'olivia (operator)', 'operator'),
    issueToken(srv, 'victor (viewer)', 'viewer'),
  ]);
  return { srv, url: srv.url, wsUrl: `${srv.url.replace(/^http/, 'ws')}/mqtt`, tokens: { admin: srv.token, operator, viewer } };
}

/** A seeded three-class table of four features: trains to a few epochs in seconds on a busy CPU. */
export function toyCsv(rows = 300, seed = 7): string {
  let s = seed >>> 0;
  const rnd = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
  const gauss = () => Math.sqrt(-2 * Math.log(rnd() || 1e-9)) * Math.cos(2 * Math.PI * rnd());
  const lines = ['a,b,c,d,label'];
  for (let i = 0; i < rows; i++) {
    const k = i % 3;
    lines.push(`${[0, 1, 2, 3].map((j) => (k * 2 + j * 0.1 + gauss()).toFixed(3)).join(',')},${['cat', 'dog', 'bird'][k]}`);
  }
  return `${lines.join('\n')}\n`;
}

export async function importToyDataset(srv: ServerHandle, name = 'toy'): Promise<void> {
  const r = await fetch(`${srv.url}/api/v1/datasets?name=${name}&label=label`, {
    method: 'POST',
    headers: { authorization: `Bearer ${srv.token}`, 'content-type': 'text/csv' },
    body: toyCsv(),
  });
  if (r.status !== 201) throw new Error(`dataset import failed: ${r.status} ${await r.text()}`);
}

export const TINY_SPEC = { layers: [{ type: 'dense', units: 8, activation: 'relu' }] };

/** Trains on the toy dataset through the API and waits for the end; returns the finished run. */
export async function trainToy(srv: ServerHandle, hyper: Record<string, unknown> = {}, model = 'toy-classifier'): Promise<any> {
  const start = await srv.api('POST', '/api/v1/runs', {
    dataset: 'toy',
    model,
    spec: TINY_SPEC,
    hyper: { epochs: 3, batchSize: 32, ...hyper },
  });
  if (start.status !== 202) throw new Error(`run refused: ${JSON.stringify(start.body)}`);
  const t0 = Date.now();
  for (;;) {
    const r = await srv.api('GET', `/api/v1/runs/${start.body.id}`);
    if (['succeeded', 'failed', 'cancelled'].includes(r.body.status)) return r.body;
    if (Date.now() - t0 > 90_000) throw new Error(`run ${start.body.id} still ${r.body.status}`);
    await new Promise((res) => setTimeout(res, 200));
  }
}
