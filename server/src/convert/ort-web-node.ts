// onnxruntime-web (wasm) under Node, as the browser agent would run a model: for parity tests and the bench.
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as ortWeb from 'onnxruntime-web';

let configured = false;

/** Points onnxruntime-web at its wasm files in node_modules; single-threaded (no cross-origin isolation in Node). */
export function configureOrtWeb(): typeof ortWeb {
  if (!configured) {
    const dist = path.dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));
    ortWeb.env.wasm.wasmPaths = pathToFileURL(dist + path.sep).href;
    ortWeb.env.wasm.numThreads = 1;
    configured = true;
  }
  return ortWeb;
}

/** A wasm session for model bytes (graph optimizations on, as in the browser). */
export async function openWebSession(bytes: Uint8Array): Promise<ortWeb.InferenceSession> {
  const ort = configureOrtWeb();
  return ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
}
