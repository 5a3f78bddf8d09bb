// Turning `pack` flags and its optional --manifest-json file into a PackInput (flags win over the file).
import { basename } from 'node:path';
import { BundleError } from '../errors.ts';
import { isObject } from '../manifest/schema-kit.ts';
import type { PackFile, PackInput } from '../pack.ts';
import { parseDuration, readInput } from './command-kit.ts';

/** Fields `--manifest-json` may hold: the richer manifest fields plus timing and chunking. */
export const MANIFEST_JSON_FIELDS = [
  'signature',
  'preprocessing',
  'labels',
  'referenceProfile',
  'selfTests',
  'quantization',
  'lineage',
  'runtime',
  'extensions',
  'createdAt',
  'expiresAt',
  'expiresIn',
  'avgChunkSize',
] as const;

/** Options of the `pack` subcommand as commander hands them over. */
export interface PackFlags {
  onnx: string;
  name: string;
  version: string;
  sequence: number;
  modelPath?: string;
  file?: string[];
  manifestJson?: string;
  createdAt?: number;
  expiresAt?: number;
  expiresIn?: number;
  avgChunkSize?: number;
  labels?: string;
  minAgentVersion?: string;
  opset?: number;
  executionProviders?: string;
  runId?: string;
  datasetDigest?: string;
  codeVersion?: string;
}

/** Reads the model, extra files and manifest JSON named by `flags`, and merges them into a PackInput. */
export async function packInputFromFlags(flags: PackFlags): Promise<PackInput> {
  const extra = flags.manifestJson ? await readManifestJson(flags.manifestJson) : {};
  const files: PackFile[] = [{ path: flags.modelPath ?? 'model.onnx', bytes: await readInput(flags.onnx) }];
  for (const spec of flags.file ?? []) {
    const eq = spec.indexOf('=');
    const [path, local] = eq > 0 ? [spec.slice(0, eq), spec.slice(eq + 1)] : [basename(spec), spec];
    files.push({ path, bytes: await readInput(local) });
  }
  const runtime = {
    ...(extra.runtime as object | undefined),
    ...(flags.minAgentVersion !== undefined && { minAgentVersion: flags.minAgentVersion }),
    ...(flags.opset !== undefined && { opset: flags.opset }),
    ...(flags.executionProviders !== undefined && { executionProviders: splitList(flags.executionProviders) }),
  };
  const lineage = {
    ...(extra.lineage as object | undefined),
    ...(flags.runId !== undefined && { runId: flags.runId }),
    ...(flags.datasetDigest !== undefined && { datasetDigest: flags.datasetDigest }),
    ...(flags.codeVersion !== undefined && { codeVersion: flags.codeVersion }),
  };
  const expiresIn =
    extra.expiresIn === undefined ? undefined : typeof extra.expiresIn === 'string' ? durationField(extra.expiresIn) : extra.expiresIn;
  return {
    ...(extra as Partial<PackInput>),
    name: flags.name,
    version: flags.version,
    sequence: flags.sequence,
    files,
    modelFile: files[0]!.path,
    labels: flags.labels !== undefined ? splitList(flags.labels) : (extra.labels as string[] | undefined),
    runtime: Object.keys(runtime).length > 0 ? runtime : undefined,
    lineage: Object.keys(lineage).length > 0 ? lineage : undefined,
    createdAt: flags.createdAt !== undefined ? new Date(flags.createdAt) : (extra.createdAt as string | undefined),
    expiresAt: flags.expiresAt !== undefined ? new Date(flags.expiresAt) : (extra.expiresAt as string | undefined),
    expiresInSeconds: flags.expiresIn ?? (expiresIn as number | undefined),
    avgChunkSize: flags.avgChunkSize ?? (extra.avgChunkSize as number | undefined),
  };
}

async function readManifestJson(file: string): Promise<Record<string, unknown>> {
  const text = new TextDecoder().decode(await readInput(file));
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new BundleError('BUNDLE_INPUT_INVALID', `${file} is not valid JSON`);
  }
  if (!isObject(value)) throw new BundleError('BUNDLE_INPUT_INVALID', `${file} must hold a JSON object`);
  const unknown = Object.keys(value).filter((k) => !(MANIFEST_JSON_FIELDS as readonly string[]).includes(k));
  if (unknown.length > 0) {
    throw new BundleError(
      'BUNDLE_INPUT_INVALID',
      `${file} has unknown field(s) ${unknown.join(', ')}; allowed: ${MANIFEST_JSON_FIELDS.join(', ')}`,
    );
  }
  const { expiresIn } = value;
  if (
    expiresIn !== undefined &&
    typeof expiresIn !== 'string' &&
    !(typeof expiresIn === 'number' && Number.isSafeInteger(expiresIn) && expiresIn > 0)
  ) {
    throw new BundleError('BUNDLE_INPUT_INVALID', `${file}: expiresIn must be seconds or a duration such as 90d`);
  }
  return value;
}

function durationField(text: string): number {
  try {
    return parseDuration(text);
  } catch (err) {
    throw new BundleError('BUNDLE_INPUT_INVALID', `expiresIn: ${(err as Error).message}`);
  }
}

function splitList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
