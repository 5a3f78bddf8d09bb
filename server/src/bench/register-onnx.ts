// Adds a model version with one ONNX artifact straight into a server's data folder: its blob folder and SQLite
// file (WAL lets this run beside the server process). Benches and the fleet tests register models this way,
// without the conversion pipeline an upload would go through.
import { join } from 'node:path';
import { FileBlobStore } from '../blob/file-blob-store.ts';
import { openSqliteStore } from '../store/sqlite/sqlite-store.ts';

/** Registers `onnx` as the next version of model `name`; returns that version and the artifact's digest. */
export async function registerOnnxInDataDir(
  dataDir: string,
  name: string,
  onnx: Uint8Array,
  description: string,
): Promise<{ version: number; digest: string }> {
  const blob = await new FileBlobStore(join(dataDir, 'blobs')).put(onnx);
  const store = openSqliteStore(join(dataDir, 'flotilla.db'));
  try {
    const v = await store.models.addVersion({
      model: name,
      runId: null,
      format: 'onnx',
      artifacts: { 'model.onnx': blob.digest },
      signature: null,
      metrics: null,
      quantization: null,
      tags: [],
      description,
    });
    return { version: v.version, digest: blob.digest };
  } finally {
    await store.close();
  }
}
