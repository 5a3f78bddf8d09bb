// Dataset versions: list, show, and CSV import as a streamed upload (never held whole in memory).
import { Readable } from 'node:stream';
// The DOM and node:stream/web declare ReadableStream apart; the request body is the same object either way.
import type { ReadableStream as WebStream } from 'node:stream/web';
import { z } from '@hono/zod-openapi';
import { route, routeApp } from '../route.ts';
import { respond } from '../schemas/respond.ts';
import { ApiError, badRequest, notFound } from '../api-error.ts';
import type { AppServices } from '../app-env.ts';
import { Dataset } from '../schemas/registry.ts';

/** Largest CSV upload accepted over HTTP (bytes). */
export const MAX_CSV_UPLOAD = 1024 * 1024 * 1024;

export function datasetRoutes(s: AppServices) {
  return routeApp([{ role: 'operator', methods: ['POST'], paths: ['/datasets'] }])
    .openapi(
      route('get', '/datasets', 'List dataset versions', {}, respond(200, 'versions', z.object({ datasets: z.array(Dataset) }))),
      async (c) => c.json({ datasets: await s.store.datasets.list() }, 200),
    )
    .openapi(
      route(
        'get',
        '/datasets/{ref}',
        'One dataset version (name for the latest, name@digest, or digest prefix)',
        { params: z.object({ ref: z.string() }) },
        respond(200, 'version', Dataset),
      ),
      async (c) => {
        const { ref } = c.req.valid('param');
        const d = await s.store.datasets.resolve(decodeURIComponent(ref));
        if (!d) throw notFound('dataset', ref);
        return c.json(d, 200);
      },
    )
    .openapi(
      route(
        'post',
        '/datasets',
        'Import a CSV (request body, text/csv, streamed): numeric features plus a label column',
        { query: z.object({ name: z.string(), label: z.string(), maxBadRows: z.coerce.number().int().min(0).optional() }) },
        respond(201, 'imported', z.object({ dataset: Dataset, report: z.unknown(), existed: z.boolean() })),
      ),
      async (c) => {
        const { name, label, maxBadRows } = c.req.valid('query');
        const body = c.req.raw.body;
        if (!body) throw badRequest('CSV_EMPTY', 'the request body is empty: send the CSV file as the body');
        const declared = Number(c.req.header('content-length') ?? NaN);
        if (declared > MAX_CSV_UPLOAD) throw new ApiError(413, 'PAYLOAD_TOO_LARGE', `CSV uploads are limited to ${MAX_CSV_UPLOAD} bytes`);
        const r = await s.datasets.importCsv(limitBytes(Readable.fromWeb(body as WebStream), MAX_CSV_UPLOAD), {
          name,
          label,
          maxBadRows,
          source: 'csv upload',
        });
        await s.store.audit.record({
          actor: c.get('actor').id,
          action: 'dataset.import',
          subject: `${name}@${r.dataset.digest}`,
          detail: { rows: r.dataset.rows },
        });
        return c.json(r, 201);
      },
    );
}

/** Passes chunks through until `max` bytes, then fails the stream (chunked uploads declare no length). */
async function* limitBytes(src: AsyncIterable<Uint8Array>, max: number): AsyncGenerator<Uint8Array> {
  let seen = 0;
  for await (const chunk of src) {
    seen += chunk.byteLength;
    if (seen > max) throw new ApiError(413, 'PAYLOAD_TOO_LARGE', `CSV uploads are limited to ${max} bytes`);
    yield chunk;
  }
}
