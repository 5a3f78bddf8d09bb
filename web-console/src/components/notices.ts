// What a panel shows instead of data: loading, an error with the server's words, or "not on this server".
import { h, type ComponentChildren, type VNode } from 'preact';
import type { Resource } from '../api/use-resource.ts';
import { ApiError } from '../api/http.ts';

export const Loading = ({ what = 'Loading' }: { what?: string }) => h('p', { class: 'notice muted', role: 'status' }, `${what}…`);

export function ErrorNote({ error }: { error: Error }) {
  const code = error instanceof ApiError ? `${error.code}: ` : '';
  return h('p', { class: 'notice error', role: 'alert' }, `${code}${error.message}`);
}

/** The server answered 404 for the route itself: it was built without this feature (or is older than the console). */
export const Unavailable = ({ what }: { what: string }) =>
  h(
    'div',
    { class: 'notice unavailable', role: 'status' },
    h('strong', null, `${what} not available on this server`),
    h('p', null, 'This server has no API for it yet. Everything else works; upgrade the server to use this page.'),
  );

export const Empty = ({ children }: { children?: ComponentChildren }) => h('p', { class: 'notice muted' }, children);

/** Renders the resource's data, or the right notice for its state. Keeps old data on screen during refreshes. */
export function guard<T>(r: Resource<T>, what: string, children: (data: T) => ComponentChildren): VNode<any> {
  if (r.missing) return h(Unavailable, { what });
  if (r.data !== undefined) return h('div', { class: 'guarded' }, r.error ? h(ErrorNote, { error: r.error }) : null, children(r.data));
  if (r.error) return h(ErrorNote, { error: r.error });
  return h(Loading, { what: `Loading ${what.toLowerCase()}` });
}
