// Vite build of the browser agent and its demo page into edge-agent/dist/browser/ (no CDN: ort wasm is served locally).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../../dist/browser', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // onnxruntime-web's wasm becomes a file beside the bundle (or comes from `ort.wasmPaths`), never inlined.
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 2048,
  },
});
