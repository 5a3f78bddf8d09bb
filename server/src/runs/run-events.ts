// In-process fan-out of run progress to live listeners (SSE streams, CLI progress bars).
import { EventEmitter } from 'node:events';

export type RunEvent =
  | { type: 'status'; runId: string; status: string; error?: { code: string; message: string } | null }
  | { type: 'batch'; runId: string; epoch: number; batch: number; batches: number; loss: number }
  | { type: 'epoch'; runId: string; record: Record<string, unknown> };

export class RunEvents {
  private readonly emitter = new EventEmitter();

  constructor() {
    // Many browser tabs and CLIs may watch one run; each is one listener.
    this.emitter.setMaxListeners(0);
  }

  emit(e: RunEvent): void {
    this.emitter.emit(e.runId, e);
    this.emitter.emit('*', e);
  }

  /** Subscribes to one run ('*' for all); returns the unsubscribe function. */
  on(runId: string, fn: (e: RunEvent) => void): () => void {
    this.emitter.on(runId, fn);
    return () => this.emitter.off(runId, fn);
  }
}
