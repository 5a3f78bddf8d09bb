// The documented wait for a first model: `agent.ready()` resolves once a verified model serves.
import { AgentError } from '../errors.ts';
import type { ModelInfo } from '../model/active-model.ts';
import type { AgentEvents } from './agent-options.ts';
import type { Emitter } from './events.ts';

/** Options of `agent.ready()`. */
export interface ReadyOptions {
  /** Give up after this many ms with AGENT_READY_TIMEOUT. Default: wait until a model serves or the agent closes. */
  timeoutMs?: number;
}

/**
 * Resolves with `current` at once, else with the first non-null `model` event. Rejects with AGENT_CLOSED
 * when `closing` aborts first (a pending wait must not hang past close()), or AGENT_READY_TIMEOUT.
 */
export function waitForModel(
  current: ModelInfo | null,
  events: Emitter<AgentEvents>,
  closing: AbortSignal,
  o: ReadyOptions = {},
): Promise<ModelInfo> {
  if (closing.aborted) return Promise.reject(new AgentError('AGENT_CLOSED', 'the agent is closed'));
  if (current) return Promise.resolve(current);
  return new Promise((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finish = (): void => {
      off();
      closing.removeEventListener('abort', onClose);
      clearTimeout(timer);
    };
    const off = events.on('model', ({ model }) => {
      if (!model) return;
      finish();
      resolve(model);
    });
    const onClose = (): void => {
      finish();
      reject(new AgentError('AGENT_CLOSED', 'the agent closed before a model served'));
    };
    closing.addEventListener('abort', onClose);
    if (o.timeoutMs !== undefined) {
      timer = setTimeout(() => {
        finish();
        reject(new AgentError('AGENT_READY_TIMEOUT', `no model served within ${o.timeoutMs} ms`));
      }, o.timeoutMs);
    }
  });
}
