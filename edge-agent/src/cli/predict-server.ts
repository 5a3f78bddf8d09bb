// Local HTTP endpoint of the agent daemon, so apps in any language can ask for predictions on this device.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Agent } from '../core/agent.ts';
import { AgentError, errorCode, isAgentError } from '../errors.ts';
import type { Prediction } from '../core/predictions.ts';

/** Largest request body, in bytes. */
const MAX_BODY = 16 * 1024 * 1024;

/**
 * Serves `POST /v1/predict` (`{ input: number[] }` or `{ inputs: number[][] }`), `POST /v1/feedback`
 * (`{ predictionId, label }`) and `GET /v1/status` on `host:port` (port 0: any free port).
 */
export async function startPredictServer(agent: Agent, port: number, host = '127.0.0.1'): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    handle(agent, req, res).catch((err) => send(res, statusOf(err), { error: { code: errorCode(err), message: (err as Error).message } }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const a = server.address() as AddressInfo;
  return { url: `http://${a.address}:${a.port}`, server };
}

async function handle(agent: Agent, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method === 'GET' && path === '/v1/status') {
    return send(res, 200, { model: agent.model, state: agent.state, online: agent.online, telemetryBacklog: agent.telemetryBacklog, lastFailed: agent.updateRecord.lastFailed });
  }
  if (req.method === 'POST' && path === '/v1/predict') {
    const body = await readBody(req);
    if (Array.isArray(body.inputs)) {
      const batch = await agent.predictBatch(body.inputs.map(asRow));
      return send(res, 200, { predictions: batch.predictions.map(plain), model: batch.model, latencyMs: batch.latencyMs });
    }
    return send(res, 200, plain(await agent.predict(asRow(body.input))));
  }
  if (req.method === 'POST' && path === '/v1/feedback') {
    const body = await readBody(req);
    if (typeof body.predictionId !== 'string' || (typeof body.label !== 'number' && typeof body.label !== 'string')) throw invalid('feedback needs { predictionId, label }');
    return send(res, 200, { matched: agent.feedback(body.predictionId, body.label) });
  }
  send(res, 404, { error: { code: 'NOT_FOUND', message: `${req.method} ${path} is not an agent endpoint` } });
}

function plain(p: Prediction) {
  const outputs: Record<string, number[]> = {};
  for (const [k, v] of Object.entries(p.outputs)) outputs[k] = Array.from(v);
  return { ...p, outputs };
}

function asRow(v: unknown): number[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'number')) throw invalid('input must be an array of numbers');
  return v;
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw invalid(`request body exceeds ${MAX_BODY} bytes`);
    parts.push(chunk as Buffer);
  }
  try {
    const v = JSON.parse(Buffer.concat(parts).toString('utf8'));
    if (typeof v !== 'object' || v === null) throw new Error('not an object');
    return v;
  } catch {
    throw invalid('request body must be a JSON object');
  }
}

const invalid = (message: string) => new AgentError('AGENT_INPUT_INVALID', message);

function statusOf(err: unknown): number {
  if (isAgentError(err, 'AGENT_INPUT_INVALID')) return 400;
  if (isAgentError(err, 'AGENT_NO_MODEL') || isAgentError(err, 'AGENT_CLOSED')) return 503;
  return 500;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
