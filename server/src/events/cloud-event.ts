// The event envelope (CloudEvents 1.0, structured JSON) and the catalog of every event type Flotilla
// emits. The catalog is the contract with webhook receivers and stream readers: types are only added.

/** Every event type, without the `flotilla.` prefix the envelope's `type` carries. */
export const EVENT_TYPES = [
  'model.version_registered',
  'model.alias_moved',
  'bundle.created',
  'rollout.created',
  'rollout.started',
  'rollout.stage_passed',
  'rollout.awaiting_approval',
  'rollout.paused',
  'rollout.resumed',
  'rollout.aborted',
  'rollout.finished',
  'rollout.rolled_back',
  'rollout.devices_superseded',
  'rollout.device_stalled',
  'alert.opened',
  'alert.escalated',
  'alert.acknowledged',
  'alert.resolved',
  'retrain.started',
  'retrain.blessed',
  'retrain.refused',
  'retrain.failed',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** The prefix of every CloudEvents `type` (reverse-DNS style, as the spec recommends). */
export const TYPE_PREFIX = 'flotilla.';

export const isEventType = (t: string): t is EventType => (EVENT_TYPES as readonly string[]).includes(t);

/** A stored event, as the stream and webhooks send it: a CloudEvents 1.0 structured-mode JSON object. */
export interface CloudEvent {
  specversion: '1.0';
  /** Unique per event; also the webhook delivery id, so receivers can drop a redelivery. */
  id: string;
  /** The area that emitted it: `/flotilla/models`, `/flotilla/rollouts`, ... */
  source: string;
  /** `flotilla.<area>.<what>`, e.g. `flotilla.rollout.stage_passed`. */
  type: `flotilla.${EventType}`;
  /** What it is about: `fraud@3`, a rollout id, an alert id, a retrain job id, a bundle id. */
  subject: string;
  /** When it was recorded, RFC 3339 UTC with milliseconds. */
  time: string;
  datacontenttype: 'application/json';
  /** Extension attribute: the store's sequence number, strictly increasing and gap-free. */
  sequence: number;
  data: unknown;
}

/** What a domain hands over; the log adds id, time and sequence. */
export interface NewEvent {
  type: EventType;
  subject: string;
  data: unknown;
}

/** `rollout.paused` → `/flotilla/rollouts`. */
export const sourceOf = (type: EventType): string => `/flotilla/${type.slice(0, type.indexOf('.'))}s`;

/** The envelope of a stored event. */
export function envelope(e: NewEvent & { id: string; time: string; sequence: number }): CloudEvent {
  return {
    specversion: '1.0',
    id: e.id,
    source: sourceOf(e.type),
    type: `${TYPE_PREFIX}${e.type}`,
    subject: e.subject,
    time: e.time,
    datacontenttype: 'application/json',
    sequence: e.sequence,
    data: e.data ?? null,
  };
}
