// Vite build of the console into web-console/dist, which the server serves at `/`. `npm run dev -w
// web-console` serves it with hot reload and sends /api to a running server (FLOTILLA_URL, default :8080).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  build: {
    outDir: fileURLToPath(new URL('./dist', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // Budget: the whole console stays under 300 KB of gzipped JavaScript (test/console/build.test.ts).
    chunkSizeWarningLimit: 300,
  },
  server: {
    proxy: { '/api': { target: process.env.FLOTILLA_URL ?? 'http://127.0.0.1:8080', changeOrigin: true } },
  },
});
