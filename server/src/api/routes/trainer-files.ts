// GET /retraining/jobs/{id}/files/{name}: an outside trainer downloads its job's files (rows and labels as
// .npy, the CSV, the held-out split, the champion's ONNX) by the URLs in its manifest. Authenticated by the
// job's download token (Authorization: Bearer ftj_…), which works here and nowhere else, and only while the
// trainer runs; mounted before operator authentication, which refuses that token everywhere.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppEnv } from '../app-env.ts';
import { validationHook } from '../errors.ts';
import type { RetrainingService } from '../../retraining/retraining-service.ts';

const binary = { schema: z.string().openapi({ format: 'binary' }) };

export function trainerFileRoutes(r: Pick<RetrainingService, 'trainerFile'>) {
  return new OpenAPIHono<AppEnv>({ defaultHook: validationHook }).openapi(
    createRoute({
      method: 'get',
      path: '/retraining/jobs/{id}/files/{name}',
      summary:
        "A running outside trainer's job file (train-x.npy, train-y.npy, train.csv, holdout-x.npy, holdout-y.npy, champion.onnx). Authorization: Bearer <the manifest's download.token>",
      request: { params: z.object({ id: z.string().min(1).max(64), name: z.string().min(1).max(64) }) },
      responses: {
        200: { description: 'the file', content: { 'application/octet-stream': binary, 'text/csv': binary } },
        401: { description: 'TRAINER_TOKEN_INVALID: no token, a wrong one, or the trainer has finished or run past its timeoutSec' },
        404: { description: 'NOT_FOUND: the job has no file of that name' },
      },
    }),
    async (c) => {
      const { id, name } = c.req.valid('param');
      const header = c.req.header('authorization');
      const f = r.trainerFile(id, name, header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined);
      return c.body(f.bytes as Uint8Array<ArrayBuffer>, 200, {
        'content-type': f.contentType,
        'content-length': String(f.bytes.byteLength),
        'cache-control': 'no-store',
        'content-disposition': `attachment; filename="${f.name}"`,
      });
    },
  );
}
