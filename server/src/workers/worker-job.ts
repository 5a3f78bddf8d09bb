// Runs one job in a fresh worker thread (TypeScript entry) and resolves with the single message it posts.
import { Worker } from 'node:worker_threads';

/** Starts `entry` (a .ts module URL) with `workerData.job = job`; rejects if the worker dies without answering. */
export function runWorkerJob<R>(entry: URL, job: unknown, transfer: ArrayBuffer[] = []): Promise<R> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./worker-bootstrap.mjs', import.meta.url), {
      workerData: { entry: entry.href, job },
      transferList: transfer,
    });
    let answered = false;
    worker.once('message', (m: R) => {
      answered = true;
      resolve(m);
      void worker.terminate();
    });
    worker.once('error', (e) => reject(e));
    worker.once('exit', (code) => {
      if (!answered) reject(new Error(`worker ${entry.pathname.split('/').pop()} exited with code ${code} before answering`));
    });
  });
}
