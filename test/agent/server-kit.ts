// Agent tests against the real server process: a bundle the server signed and chunked itself, provisioned
// devices, the server's trust anchor, and what the server stored (device events, telemetry windows).
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { TelemetryWindow } from '@flotilla/firmware-bundler/wire';
import type { ServerHandle } from '../support/server-process.ts';
import { registerOnnxModel } from '../delivery/fleet-kit.ts';
import { classifierModel, type ClassifierSpec } from './harness/test-models.ts';

/** A bundle made by the server (POST /bundles) from a registered ONNX model. */
export interface ServerBundle {
  id: string;
  version: string;
  /** The model's ONNX bytes, for reference outputs. */
  onnx: Uint8Array;
}

/**
 * Registers the test classifier as model `name` (ONNX has no upload route yet; see fleet-kit) and has the
 * server bundle it: signed with the server's key, content-defined chunks, labels. `extra` goes into the
 * POST /bundles body (selfTests, version, ...).
 */
export async function serverBundle(
  srv: ServerHandle,
  name: string,
  spec: ClassifierSpec = {},
  extra: Record<string, unknown> = {},
): Promise<ServerBundle> {
  const onnx = classifierModel(spec);
  const { version } = await registerOnnxModel(srv, name, onnx);
  const r = await srv.api('POST', '/api/v1/bundles', {
    model: `${name}@${version}`,
    labels: ['cat', 'dog', 'bird'].slice(0, spec.classes ?? 3),
    ...extra,
  });
  if (r.status !== 201) throw new Error(`bundle refused: ${r.status} ${JSON.stringify(r.body)}`);
  return { id: r.body.id, version: r.body.version, onnx };
}

/** The server's bundle-signing public key (hex), the trust anchor a device is provisioned with. */
export async function serverKey(srv: ServerHandle): Promise<string> {
  return (await srv.api('GET', '/api/v1/keys')).body.keys[0].publicKey;
}

/** Provisions a device and sets its desired bundle. */
export async function deviceFor(srv: ServerHandle, bundleId: string, id?: string): Promise<{ id: string; token: string }> {
  const r = await srv.api('POST', '/api/v1/devices', id ? { id } : {});
  if (r.status !== 201) throw new Error(`provisioning failed: ${r.status} ${JSON.stringify(r.body)}`);
  const d = await srv.api('PUT', `/api/v1/devices/${r.body.id}/desired`, { bundle: bundleId });
  if (d.status !== 200) throw new Error(`desired state refused: ${d.status} ${JSON.stringify(d.body)}`);
  return { id: r.body.id, token: r.body.token };
}

/** A device's recent timeline from GET /devices/{id} (newest first, as the server answers). */
export async function deviceEvents(srv: ServerHandle, id: string): Promise<{ kind: string; at: string; detail: any }[]> {
  const r = await srv.api('GET', `/api/v1/devices/${id}?events=500`);
  if (r.status !== 200) throw new Error(`device ${id}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.events;
}

/** Requests the server counted for a device over the last day (GET /monitoring/series, all models). */
export async function deviceRequests(srv: ServerHandle, id: string): Promise<number> {
  const r = await srv.api('GET', `/api/v1/monitoring/series?scope=device&id=${encodeURIComponent(id)}&metrics=requests`);
  if (r.status !== 200) throw new Error(`series: ${r.status} ${JSON.stringify(r.body)}`);
  let n = 0;
  for (const s of r.body.series) for (const p of s.points) n += p.requests ?? 0;
  return n;
}

/**
 * Every telemetry window the server stored for `deviceId`, in seq order, read from its telemetry.db
 * (read-only; call after the server stopped: there is no route that lists raw windows).
 */
export function storedWindows(dataDir: string, deviceId: string): TelemetryWindow[] {
  const db = new Database(join(dataDir, 'telemetry.db'), { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT body FROM telemetry_windows WHERE device_id = ? ORDER BY seq').all(deviceId) as { body: string }[];
    return rows.map((r) => JSON.parse(r.body) as TelemetryWindow);
  } finally {
    db.close();
  }
}
