// The OpenAPI document of a real server describes the body of every response: each operation has a 2xx
// answer whose JSON schema names its fields, so clients generated from it (and readers of /api/docs) know
// what comes back. Blob downloads and an outside trainer's job files are the binary answers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServerProcess, type ServerHandle } from '../support/server-process.ts';

type Schema = {
  $ref?: string;
  type?: string;
  properties?: Record<string, unknown>;
  items?: Schema;
  allOf?: Schema[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  format?: string;
  nullable?: boolean;
};
interface Doc {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema?: Schema }> }> }>>;
  components?: { schemas?: Record<string, Schema> };
}

let srv: ServerHandle;
let doc: Doc;

beforeAll(async () => {
  srv = await startServerProcess();
  doc = (await (await fetch(`${srv.url}/api/openapi.json`)).json()) as Doc;
});
afterAll(async () => srv?.dispose());

/** Why `s` does not describe a body (null when it does): it must name fields, or be a list of things that do. */
function problem(s: Schema | undefined, depth = 0): string | null {
  if (!s) return 'no schema';
  if (s.$ref) return problem(doc.components?.schemas?.[s.$ref.replace('#/components/schemas/', '')], depth);
  const parts = s.allOf ?? s.anyOf ?? s.oneOf;
  if (parts) return parts.some((p) => problem(p, depth) === null) ? null : 'no part names fields';
  if (s.type === 'array') return depth < 2 ? problem(s.items, depth + 1) : null;
  if (s.type === 'object' && Object.keys(s.properties ?? {}).length > 0) return null;
  return s.type === 'object' ? 'an open record without fields' : `a bare ${s.type ?? 'untyped'} value`;
}

describe('GET /api/openapi.json', () => {
  it('describes a 2xx JSON body with named fields for every operation', () => {
    const missing: string[] = [];
    let operations = 0;
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        operations++;
        const ok = Object.entries(op.responses).filter(([code]) => /^2\d\d$/.test(code));
        if (ok.length === 0) {
          missing.push(`${method} ${path}: no 2xx response`);
          continue;
        }
        for (const [code, r] of ok) {
          const binary = r.content?.['application/octet-stream']?.schema?.format === 'binary';
          if (binary && (path === '/api/v1/blobs/{sha256}' || path === '/api/v1/retraining/jobs/{id}/files/{name}')) continue;
          // A streamed answer (NDJSON: one JSON object a line) describes its lines the same way.
          const why = problem(r.content?.['application/json']?.schema ?? r.content?.['application/x-ndjson']?.schema);
          if (why) missing.push(`${method} ${path} ${code}: ${why}`);
        }
      }
    }
    expect(operations).toBeGreaterThan(40);
    expect(missing).toEqual([]);
  });

  it('names the fields a client relies on, so a rename shows in the document', () => {
    const run = doc.components?.schemas?.Run;
    expect(Object.keys(run?.properties ?? {})).toEqual(expect.arrayContaining(['id', 'status', 'datasetDigest', 'splitSeed', 'history']));
    const device = doc.components?.schemas?.Device;
    expect(Object.keys(device?.properties ?? {})).toEqual(expect.arrayContaining(['id', 'online', 'desiredRev', 'modelVersion']));
  });
});
