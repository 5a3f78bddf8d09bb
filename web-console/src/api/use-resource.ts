// Loading API data into a component: keeps the last good data while refreshing (no flicker), polls
// while the tab is visible, and tells "this server has no such route" apart from other errors.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, isMissingRoute } from './http.ts';

export interface Resource<T> {
  data: T | undefined;
  error: ApiError | Error | null;
  loading: boolean;
  /** The server has no route for this (a feature it was built without): show "not available". */
  missing: boolean;
  reload(): void;
}

/** Runs `load` now, whenever `deps` change, on `reload()`, and every `pollMs` while the page is visible. */
export function useResource<T>(load: () => Promise<T>, deps: unknown[], pollMs?: number): Resource<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | Error | null>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const generation = useRef(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);

  useEffect(() => {
    setData(undefined);
    setError(null);
  }, deps);

  useEffect(() => {
    const mine = ++generation.current;
    setLoading(true);
    load().then(
      (d) => {
        if (mine !== generation.current) return;
        setData(d);
        setError(null);
        setLoading(false);
      },
      (e: unknown) => {
        if (mine !== generation.current) return;
        setError(e instanceof Error ? e : new Error(String(e)));
        setLoading(false);
      },
    );
  }, [...deps, tick]);

  useEffect(() => {
    if (!pollMs) return;
    const id = setInterval(() => {
      if (!document.hidden) reload();
    }, pollMs);
    return () => clearInterval(id);
  }, [pollMs, reload]);

  return { data, error, loading, missing: isMissingRoute(error), reload };
}
