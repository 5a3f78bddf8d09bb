// Local HTTP endpoint of the agent daemon, so apps in any language can ask for predictions on this device.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Agent } from '../core/agent.ts';
import { AgentError, errorCode, isAgentError } from '../errors.ts';
import type { NamedPrediction, Prediction } from '../model/predictions.ts';
import { isNamedInputs, type NamedInputs } from '../model/named-predict.ts';
import { tensorToJson, type TensorJson } from '../runtime/tensors.ts';
import { allowedHosts, checkCaller, checkToken, LocalRefusal } from './local-guard.ts';

/** Options of {@link startPredictServer}. */
export interface PredictServerOptions {
  /** Port (0: any free port). */
  port: number;
  /** Address to listen on. Default 127.0.0.1. */
  host?: string;
  /** What `POST /v1/feedback` must carry as `Authorization: Bearer <token>` (see `loadOrCreateServeToken`). */
  token: string;
  /** Most rows in one `inputs` batch. Default 1000 (more ties up inference for everyone else). */
  maxRows?: number;
  /** Largest request body, in bytes. Default 4 MiB. */
  maxBodyBytes?: number;
}

type Limits = Required<Pick<PredictServerOptions, 'maxRows' | 'maxBodyBytes' | 'token'>> & { hosts: ReadonlySet<string> };

/**
 * Serves `POST /v1/predict` (`{ input: number[] }`, `{ inputs: number[][] }`, or named tensors
 * `{ inputs: { name: { type, dims, data } } }` answered with typed outputs and their dims), `POST /v1/feedback`
 * (`{ predictionId, label }`, with the token) and `GET /v1/status` on `host:port`, to local callers only:
 * requests with a foreign Host (DNS rebinding) or from a web page (Origin) are refused.
 */
export async function startPredictServer(agent: Agent, o: PredictServerOptions): Promise<{ url: string; server: Server }> {
  const host = o.host ?? '127.0.0.1';
  const limits: Limits = { token: o.token, maxRows: o.maxRows ?? 1000, maxBodyBytes: o.maxBodyBytes ?? 4 * 1024 * 1024, hosts: new Set() };
  const server = createServer((req, res) => {
    handle(agent, limits, req, res).catch((err) => {
      // Whatever of the body is still coming is read and dropped, never kept.
      req.resume();
      const code = err instanceof LocalRefusal ? err.code : errorCode(err);
      send(res, statusOf(err), { error: { code, message: (err as Error).message } });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, host, () => resolve());
  });
  const a = server.address() as AddressInfo;
  limits.hosts = allowedHosts(host, a.port);
  return { url: `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`, server };
}

async function handle(agent: Agent, limits: Limits, req: IncomingMessage, res: ServerResponse): Promise<void> {
  checkCaller(req, limits.hosts);
  const path = (req.url ?? '/').split('?')[0];
  if (req.method === 'GET' && path === '/v1/status') {
    return send(res, 200, {
      model: agent.model,
      executionProvider: agent.executionProvider,
      state: agent.state,
      online: agent.online,
      telemetryBacklog: agent.telemetryBacklog,
      lastFailed: agent.updateRecord.lastFailed,
    });
  }
  if (req.method === 'POST' && path === '/v1/predict') {
    const body = await readBody(req, limits.maxBodyBytes);
    if (isNamedInputs(body.inputs))
      return send(res, 200, plainNamed(await agent.predictNamed(namedBody(body.inputs, limits), { maxElements: maxElements(limits) })));
    if (Array.isArray(body.inputs)) {
      if (body.inputs.length > limits.maxRows)
        throw new LocalRefusal(413, 'TOO_MANY_ROWS', `a batch holds at most ${limits.maxRows} rows, got ${body.inputs.length}`);
      const batch = await agent.predictBatch(body.inputs.map(asRow));
      return send(res, 200, { predictions: batch.predictions.map(plain), model: batch.model, latencyMs: batch.latencyMs });
    }
    return send(res, 200, plain(await agent.predict(asRow(body.input))));
  }
  if (req.method === 'POST' && path === '/v1/feedback') {
    checkToken(req, limits.token);
    const body = await readBody(req, limits.maxBodyBytes);
    if (typeof body.predictionId !== 'string' || (typeof body.label !== 'number' && typeof body.label !== 'string'))
      throw invalid('feedback needs { predictionId, label }');
    // Labels that came in over HTTP say so: the server's retraining policy may not count them [WIRE-2.12.1].
    return send(res, 200, { matched: agent.feedback(body.predictionId, body.label, 'local-api') });
  }
  send(res, 404, { error: { code: 'NOT_FOUND', message: `${req.method} ${path} is not an agent endpoint` } });
}

function plain(p: Prediction) {
  const outputs: Record<string, number[]> = {};
  for (const [k, v] of Object.entries(p.outputs)) outputs[k] = Array.from(v);
  return { ...p, outputs };
}

function plainNamed(p: NamedPrediction) {
  const outputs: Record<string, TensorJson> = {};
  for (const [k, v] of Object.entries(p.outputs)) outputs[k] = tensorToJson(v);
  return { ...p, outputs };
}

/**
 * Each JSON tensor's element count is bounded by what the body cap can carry (2 bytes a number at the least),
 * and its first dimension (the batch) by the row cap, before the agent allocates anything for it.
 */
const maxElements = (limits: Limits) => Math.floor(limits.maxBodyBytes / 2);

function namedBody(inputs: NamedInputs, limits: Limits): NamedInputs {
  for (const [name, t] of Object.entries(inputs)) {
    if (typeof t !== 'object' || t === null || Array.isArray(t)) throw invalid(`inputs.${name} must be { "type", "dims", "data" }`);
    const dims = (t as { dims?: unknown }).dims;
    if (Array.isArray(dims) && typeof dims[0] === 'number' && dims[0] > limits.maxRows) {
      throw new LocalRefusal(
        413,
        'TOO_MANY_ROWS',
        `inputs.${name}: a batch holds at most ${limits.maxRows} rows, got dims[0] = ${dims[0]}`,
      );
    }
  }
  return inputs;
}

function asRow(v: unknown): number[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'number')) throw invalid('input must be an array of numbers');
  return v;
}

async function readBody(req: IncomingMessage, max: number): Promise<Record<string, unknown>> {
  const tooLarge = () => new LocalRefusal(413, 'BODY_TOO_LARGE', `request body exceeds ${max} bytes`);
  if (Number(req.headers['content-length'] ?? 0) > max) throw tooLarge();
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) throw tooLarge();
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
  if (err instanceof LocalRefusal) return err.status;
  if (isAgentError(err, 'AGENT_INPUT_INVALID')) return 400;
  if (isAgentError(err, 'AGENT_NO_MODEL') || isAgentError(err, 'AGENT_CLOSED')) return 503;
  return 500;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
