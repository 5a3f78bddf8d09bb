// A tiny typed event emitter that works the same in Node and browsers.

/** Subscribes and emits events of a map `E` (event name → payload). Listener errors never reach the emitter. */
export class Emitter<E extends Record<string, unknown>> {
  private readonly listeners = new Map<keyof E, Set<(payload: never) => void>>();

  /** Calls `fn` on every `event`; returns the unsubscribe function. */
  on<K extends keyof E>(event: K, fn: (payload: E[K]) => void): () => void {
    const set = this.listeners.get(event) ?? new Set();
    set.add(fn as (payload: never) => void);
    this.listeners.set(event, set);
    return () => set.delete(fn as (payload: never) => void);
  }

  /** Resolves with the next `event` whose payload passes `filter`. */
  once<K extends keyof E>(event: K, filter: (payload: E[K]) => boolean = () => true): Promise<E[K]> {
    return new Promise((resolve) => {
      const off = this.on(event, (p) => {
        if (!filter(p)) return;
        off();
        resolve(p);
      });
    });
  }

  emit<K extends keyof E>(event: K, payload: E[K]): void {
    for (const fn of this.listeners.get(event) ?? []) {
      try {
        (fn as (p: E[K]) => void)(payload);
      } catch {
        /* a listener's bug must not break the agent */
      }
    }
  }
}
