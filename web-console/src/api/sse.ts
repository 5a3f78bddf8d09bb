// Server-sent events with the token in the query (EventSource cannot set headers), as a hook that
// reconnects on its own and closes when the component goes away or the stream says it is finished.
import { useEffect, useRef, useState } from 'preact/hooks';
import { API_BASE, getToken } from './http.ts';

export type StreamState = 'connecting' | 'live' | 'retrying' | 'closed';

/** Handlers by event name; return `true` from one to close the stream (e.g. on a run's final status). */
export type StreamHandlers = Record<string, (data: any) => boolean | void>;

/** Opens `path` (under /api/v1) and dispatches each named event's JSON. Returns the close function. */
export function openStream(path: string, handlers: StreamHandlers, onState: (s: StreamState) => void = () => undefined): () => void {
  const url = new URL(`${API_BASE}${path}`);
  url.searchParams.set('token', getToken() ?? '');
  const es = new EventSource(url);
  onState('connecting');
  const close = () => {
    es.close();
    onState('closed');
  };
  es.onopen = () => onState('live');
  // EventSource retries by itself after an error; say so rather than pretend to be live.
  es.onerror = () => onState(es.readyState === EventSource.CLOSED ? 'closed' : 'retrying');
  for (const [name, fn] of Object.entries(handlers)) {
    es.addEventListener(name, (e) => {
      let data: unknown;
      try {
        data = JSON.parse((e as MessageEvent<string>).data);
      } catch {
        return;
      }
      if (fn(data) === true) close();
    });
  }
  return close;
}

/** Subscribes while mounted (and while `path` is not null); handlers may change between renders. */
export function useStream(path: string | null, handlers: StreamHandlers): StreamState {
  const [state, setState] = useState<StreamState>('closed');
  const latest = useRef(handlers);
  latest.current = handlers;
  const names = Object.keys(handlers).sort().join(',');
  useEffect(() => {
    if (!path) return;
    const proxied: StreamHandlers = {};
    for (const name of names.split(',').filter(Boolean)) proxied[name] = (d) => latest.current[name]?.(d);
    return openStream(path, proxied, setState);
  }, [path, names]);
  return state;
}
