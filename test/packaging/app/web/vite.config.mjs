// The app's own Vite build; onnxruntime-web's wasm is emitted beside the bundle, never inlined.
export default {
  base: './',
  logLevel: 'warn',
  build: { outDir: 'dist', target: 'es2022', assetsInlineLimit: 0, chunkSizeWarningLimit: 4096 },
};
