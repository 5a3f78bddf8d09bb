// What a device running a bundle takes on POST /v1/predict, worked out from the bundle's manifest alone:
// each input's name, type and shape, the values in one row, labels, preprocessing, and an example body
// (a self-test row from the manifest when it has one, so the example is a real sample, else zeros).
import type { BundleManifest, TensorSpec } from '@flotilla/firmware-bundler';

export interface InputDescription {
  name: string;
  dtype: string;
  shape: (number | null)[];
  /** Values in one row: the product of the shape after its batch dimension; null when a dimension is open. */
  rowSize: number | null;
}

export interface PredictExample {
  inputs: InputDescription[];
  outputs: InputDescription[];
  labels: string[] | null;
  preprocessing: unknown[];
  /** A body for `POST /v1/predict` (one row of the first input); null when its size is not fixed. */
  body: { input: number[] } | null;
  /** Where the example row came from. */
  source: string | null;
}

function describe(t: TensorSpec): InputDescription {
  const dims = t.shape.slice(1);
  const rowSize = dims.every((d) => typeof d === 'number' && d > 0) ? (dims as number[]).reduce((a, b) => a * b, 1) : null;
  return { name: t.name, dtype: t.dtype, shape: t.shape, rowSize };
}

export function predictExample(m: Partial<BundleManifest>): PredictExample {
  const inputs = (m.signature?.inputs ?? []).map(describe);
  const outputs = (m.signature?.outputs ?? []).map(describe);
  const first = inputs[0];
  const test = first ? m.selfTests?.find((v) => v.inputs[first.name]?.length === first.rowSize) : undefined;
  const row = test ? test.inputs[first!.name]! : first?.rowSize ? new Array<number>(first.rowSize).fill(0) : null;
  return {
    inputs,
    outputs,
    labels: m.labels ?? null,
    preprocessing: m.preprocessing?.steps ?? [],
    body: row ? { input: row } : null,
    source: test ? `self-test vector '${test.name}' of the bundle` : row ? 'zeros' : null,
  };
}

const dims = (t: InputDescription) => `[${t.shape.map((d) => d ?? 'N').join(', ')}]`;

/** The human rendering: signature, labels, preprocessing and a curl line for a local agent on `port`. */
export function renderPredictExample(e: PredictExample, ref: string, port = 8081): string {
  const lines = [
    ...e.inputs.map(
      (t) =>
        `input   ${t.name}: ${t.dtype} ${dims(t)}${t.rowSize ? `, one row = ${t.rowSize} numbers (row-major, batch dimension left out)` : ''}`,
    ),
    ...e.outputs.map((t) => `output  ${t.name}: ${t.dtype} ${dims(t)}`),
    `labels  ${e.labels?.length ? e.labels.join(' ') : '(none: top1 is the output index)'}`,
    `preprocessing  ${e.preprocessing.length ? e.preprocessing.map((s) => JSON.stringify(s)).join(' -> ') : 'none (send what the model takes)'}`,
  ];
  if (e.inputs.length > 1) lines.push(`this model takes ${e.inputs.length} inputs; the example fills '${e.inputs[0]!.name}'`);
  if (e.body) {
    const shown =
      e.body.input.length > 8 ? `[${e.body.input.slice(0, 4).join(',')},... ${e.body.input.length} numbers]` : JSON.stringify(e.body.input);
    lines.push(
      '',
      `predict on a device running \`flotilla agent --serve ${port}\`: POST /v1/predict {"input": ${shown}}`,
      `  (a batch: {"inputs": [row, row, ...]}; the answer has top1, confidence, outputs, predictionId)`,
      `  flotilla bundle show ${ref} --example-out predict.json    # ${e.source}`,
      `  curl -s http://127.0.0.1:${port}/v1/predict -H 'content-type: application/json' -d @predict.json`,
    );
  }
  return lines.join('\n');
}
