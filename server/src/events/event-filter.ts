// Event type filters of webhooks: exact types or globs (`rollout.*`, `*.created`, `*`), with or without
// the `flotilla.` prefix. A filter that matches no known type is refused, so a typo never silently
// subscribes to nothing.
import { EVENT_TYPES, TYPE_PREFIX, type EventType } from './cloud-event.ts';
import { EventsError } from './events-error.ts';

const PATTERN = /^[a-z0-9_.*]{1,100}$/;

const strip = (p: string) => (p.startsWith(TYPE_PREFIX) ? p.slice(TYPE_PREFIX.length) : p);

function toRegExp(pattern: string): RegExp {
  const body = strip(pattern)
    .split('*')
    .map((s) => s.replace(/[.]/g, '\\.'))
    .join('[a-z0-9_.]*');
  return new RegExp(`^${body}$`);
}

/** Normalised filters (prefix removed, duplicates dropped); throws INVALID_EVENT_FILTER naming the bad one. */
export function parseFilters(filters: readonly string[]): string[] {
  if (filters.length === 0) throw new EventsError('INVALID_EVENT_FILTER', `give at least one event filter, e.g. 'rollout.*' or '*'`);
  if (filters.length > 50) throw new EventsError('INVALID_EVENT_FILTER', `at most 50 event filters, got ${filters.length}`);
  const out: string[] = [];
  for (const raw of filters) {
    const f = raw.trim();
    if (!PATTERN.test(f))
      throw new EventsError('INVALID_EVENT_FILTER', `event filter '${f.slice(0, 100)}' may hold only a-z, 0-9, '_', '.' and '*'`);
    const re = toRegExp(f);
    if (!EVENT_TYPES.some((t) => re.test(t))) {
      throw new EventsError('INVALID_EVENT_FILTER', `event filter '${f}' matches no event type; known types: ${EVENT_TYPES.join(', ')}`);
    }
    if (!out.includes(strip(f))) out.push(strip(f));
  }
  return out;
}

/** A matcher over event types (with or without the prefix) for already-parsed filters. */
export function matcher(filters: readonly string[]): (type: string) => boolean {
  const res = filters.map(toRegExp);
  return (type) => {
    const t = strip(type) as EventType;
    return res.some((r) => r.test(t));
  };
}
