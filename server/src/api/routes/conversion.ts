// Conversion routes: export a trained version to ONNX (+ int8), quantize an ONNX version, import ONNX models.
import { z } from '@hono/zod-openapi';
import { route, routeApp } from '../route.ts';
import { ApiError, badRequest, notFound } from '../api-error.ts';
import { MAX_ONNX_IMPORT, type ConversionService } from '../../conversion/conversion-service.ts';
import type { ImportEvidenceInput } from '../../conversion/import-evidence.ts';
import type { Store } from '../../store/store.ts';
import { respond } from '../schemas/respond.ts';
import { ConversionOutcome, ModelVersion } from '../schemas/registry.ts';

const QuantizeFields = {
  mode: z.enum(['auto', 'static', 'dynamic']).optional(),
  method: z.enum(['minmax', 'percentile', 'entropy', 'auto']).optional().openapi({
    description:
      'Calibration method; auto (default) tries min-max, then entropy, then percentile, keeping the first whose int8 model meets the gate on the calibration samples (else the closest)',
  }),
  maxAccuracyDrop: z.number().min(0).max(100).optional(),
  minTop1Agreement: z.number().min(0).max(1).optional(),
  maxRelativeL2: z
    .number()
    .min(0)
    .max(10)
    .optional()
    .openapi({ description: 'Parity gate: largest relative L2 error of each non-classifier output (default 0.05)' }),
  minCosine: z
    .number()
    .min(-1)
    .max(1)
    .optional()
    .openapi({ description: 'Parity gate: smallest cosine similarity of each non-classifier output (default 0.99)' }),
  calibrationSamples: z.number().int().min(8).max(10_000).optional(),
  overrideReason: z
    .string()
    .min(3)
    .max(500)
    .optional()
    .openapi({ description: 'Allow bundling even if the parity gate fails; recorded with the report' }),
};
const ExportBody = z.object({ quantize: z.enum(['int8', 'none']).default('int8'), ...QuantizeFields });
const QuantizeBody = z.object({
  calibration: z.union([
    z.object({ dataset: z.string().min(1) }),
    z.object({
      data: z.string().min(1).openapi({ description: 'base64 of little-endian float32 samples' }),
      shape: z.array(z.number().int().positive()).min(1).max(8),
    }),
  ]),
  evaluationDataset: z.string().optional(),
  evaluation: z
    .object({
      data: z.string().min(1).openapi({ description: 'base64 of little-endian float32 samples' }),
      shape: z.array(z.number().int().positive()).min(1).max(8),
    })
    .optional()
    .openapi({ description: 'Held-out inputs (no labels) to compare int8 with float on, kept apart from the calibration samples' }),
  ...QuantizeFields,
});

function decodeSamples(b64: string, shape: number[]): Float32Array {
  const bytes = Buffer.from(b64, 'base64');
  const expected = shape.reduce((a, b) => a * b, 1) * 4;
  if (bytes.byteLength !== expected)
    throw badRequest(
      'CALIBRATION_FILE_INVALID',
      `calibration data has ${bytes.byteLength} bytes; shape [${shape.join(', ')}] needs ${expected}`,
    );
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** The parts of a multipart import: the model and its evidence (a reference set is required with any other part). */
async function importParts(form: FormData): Promise<{ model: Uint8Array; evidence?: ImportEvidenceInput }> {
  const part = async (key: string): Promise<Uint8Array | undefined> => {
    const v = form.get(key);
    if (v === null) return undefined;
    return typeof v === 'string' ? new TextEncoder().encode(v) : new Uint8Array(await v.arrayBuffer());
  };
  const model = await part('model');
  if (!model || model.byteLength === 0)
    throw badRequest('ONNX_INVALID', "the multipart body has no 'model' part: send the .onnx file as 'model'");
  const [reference, labels, evaluation, evaluationLabels, lineage] = await Promise.all(
    ['reference', 'labels', 'eval', 'evalLabels', 'lineage'].map(part),
  );
  if (!reference) {
    if (labels || evaluation || evaluationLabels || lineage)
      throw badRequest(
        'REFERENCE_INVALID',
        "labels, held-out rows and lineage come with a reference set: add a 'reference' part (.npy of representative inputs)",
      );
    return { model };
  }
  return { model, evidence: { reference, labels, evaluation, evaluationLabels, lineage } };
}

export function conversionRoutes(s: { store: Store; conversion: ConversionService }) {
  const app = routeApp([{ role: 'operator', methods: ['POST'], paths: ['/models/*', '/runs/:id/export'] }]);
  const exportTo = (ref: string, body: z.infer<typeof ExportBody>, actor: string) => {
    const { overrideReason, ...rest } = body;
    return s.conversion.exportVersion(ref, { ...rest, overrideReason }, actor);
  };
  return app
    .openapi(
      route(
        'post',
        '/models/{name}/versions/{ref}/export',
        'Export a trained version to ONNX and quantize it to int8 (with parity report and gate)',
        { params: z.object({ name: z.string(), ref: z.string() }), body: ExportBody },
        respond(200, 'exported', ConversionOutcome),
      ),
      async (c) => {
        const p = c.req.valid('param');
        return c.json(await exportTo(`${p.name}@${p.ref}`, c.req.valid('json'), c.get('actor').id), 200);
      },
    )
    .openapi(
      route(
        'post',
        '/runs/{id}/export',
        'Export the model version a run registered (same as the model route)',
        { params: z.object({ id: z.string() }), body: ExportBody },
        respond(200, 'exported', ConversionOutcome),
      ),
      async (c) => {
        const { id } = c.req.valid('param');
        const run = await s.store.runs.get(id);
        if (!run) throw notFound('run', id);
        const v = (await s.store.models.listVersions(run.model)).find((x) => x.runId === run.id);
        if (!v) throw new ApiError(409, 'RUN_NOT_REGISTERED', `run ${run.id} (${run.status}) registered no model version`);
        return c.json(await exportTo(`${v.model}@${v.version}`, c.req.valid('json'), c.get('actor').id), 200);
      },
    )
    .openapi(
      route(
        'post',
        '/models/{name}/versions/{ref}/quantize',
        'Quantize an ONNX version to int8 with calibration samples (dataset or inline)',
        { params: z.object({ name: z.string(), ref: z.string() }), body: QuantizeBody },
        respond(200, 'quantized', ConversionOutcome),
      ),
      async (c) => {
        const { name, ref } = c.req.valid('param');
        const { calibration, evaluationDataset, evaluation, ...o } = c.req.valid('json');
        if (evaluation && evaluationDataset)
          throw badRequest('EVALUATION_AMBIGUOUS', 'give held-out inputs or an evaluation dataset, not both');
        const cal =
          'dataset' in calibration
            ? { dataset: calibration.dataset }
            : { data: decodeSamples(calibration.data, calibration.shape), shape: calibration.shape };
        const held = evaluation ? { data: decodeSamples(evaluation.data, evaluation.shape), shape: evaluation.shape } : evaluationDataset;
        return c.json(await s.conversion.quantizeVersion(`${name}@${ref}`, cal, held, o, c.get('actor').id), 200);
      },
    )
    .openapi(
      route(
        'post',
        '/models/import',
        'Register an ONNX model made elsewhere. Body: the .onnx bytes, or multipart/form-data with parts model (.onnx), reference (.npy), and optionally labels (JSON), eval and evalLabels (.npy), lineage (JSON)',
        { query: z.object({ name: z.string(), description: z.string().max(1000).optional() }) },
        respond(201, 'registered', ModelVersion),
      ),
      async (c) => {
        const { name, description } = c.req.valid('query');
        const declared = Number(c.req.header('content-length') ?? NaN);
        if (declared > MAX_ONNX_IMPORT)
          throw new ApiError(413, 'PAYLOAD_TOO_LARGE', `ONNX imports are limited to ${MAX_ONNX_IMPORT} bytes`);
        if (/^multipart\/form-data\b/i.test(c.req.header('content-type') ?? '')) {
          let form: FormData;
          try {
            form = await c.req.formData();
          } catch (e) {
            if (e instanceof ApiError) throw e;
            throw badRequest(
              'MULTIPART_INVALID',
              `the multipart body does not parse (${(e as Error).message}): send parts model, reference, labels, eval, evalLabels, lineage`,
            );
          }
          const { model, evidence } = await importParts(form);
          return c.json(await s.conversion.importOnnx(model, name, description ?? '', c.get('actor').id, evidence), 201);
        }
        const bytes = new Uint8Array(await c.req.arrayBuffer());
        if (bytes.byteLength === 0) throw badRequest('ONNX_INVALID', 'the request body is empty: send the .onnx file as the body');
        return c.json(await s.conversion.importOnnx(bytes, name, description ?? '', c.get('actor').id), 201);
      },
    );
}
