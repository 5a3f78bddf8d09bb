// A tiny hash router: `#/devices/car-1?tab=timeline`. The hash keeps every view a plain link that
// survives reloads, and the server only ever has to serve one page.
import { useEffect, useState } from 'preact/hooks';

export interface Route {
  /** Path segments, decoded: `#/models/digits` → ['models', 'digits']. */
  parts: string[];
  query: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const raw = hash.replace(/^#\/?/, '');
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  return {
    parts: path
      .split('/')
      .filter(Boolean)
      .map((p) => decodeURIComponent(p)),
    query: new URLSearchParams(q < 0 ? '' : raw.slice(q + 1)),
  };
}

/** `href(['devices', id])` or `href(['rollouts', 'new'], { model })`: a hash link with encoded parts. */
export function href(path: string | string[], params: Record<string, string | number | undefined | null> = {}): string {
  const parts = (Array.isArray(path) ? path : [path]).map((p) => encodeURIComponent(p)).join('/');
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const qs = q.toString();
  return `#/${parts}${qs ? `?${qs}` : ''}`;
}

/** Goes to a hash link; `replace` keeps filter tweaks out of the back-button history. */
export function navigate(link: string, replace = false): void {
  if (replace) history.replaceState(null, '', link);
  else location.hash = link.slice(1);
  if (replace) window.dispatchEvent(new HashChangeEvent('hashchange'));
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseHash(location.hash));
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}
