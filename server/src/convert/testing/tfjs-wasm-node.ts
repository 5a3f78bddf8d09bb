// Test and bench helper: the TensorFlow.js wasm backend under Node, loading its .wasm files from node_modules.
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

/** Switches TensorFlow.js to the wasm backend (SIMD, single-threaded under Node). */
export async function useTfjsWasm(): Promise<void> {
  if (tf.getBackend() === 'wasm') return;
  const dist = path.dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  setWasmPaths(dist + path.sep);
  await tf.setBackend('wasm');
  await tf.ready();
}
