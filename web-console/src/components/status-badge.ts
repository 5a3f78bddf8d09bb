// A state word in a coloured pill, the same colour for the same meaning on every page (plus the word, never colour alone).
import { h } from 'preact';

const TONES: Record<string, 'ok' | 'info' | 'warn' | 'bad' | 'muted'> = {
  succeeded: 'ok',
  updated: 'ok',
  completed: 'ok',
  passed: 'ok',
  idle: 'ok',
  online: 'ok',
  resolved: 'ok',
  ok: 'ok',
  live: 'ok',
  running: 'info',
  active: 'info',
  downloading: 'info',
  verifying: 'info',
  staging: 'info',
  activating: 'info',
  probing: 'info',
  committing: 'info',
  notified: 'info',
  connecting: 'info',
  queued: 'warn',
  paused: 'warn',
  waiting_approval: 'warn',
  warning: 'warn',
  warn: 'warn',
  rollback_pending: 'warn',
  rolling_back: 'warn',
  retrying: 'warn',
  learning: 'warn',
  acknowledged: 'warn',
  failed: 'bad',
  aborted: 'bad',
  rolled_back: 'bad',
  critical: 'bad',
  alert: 'bad',
  open: 'bad',
  cancelled: 'bad',
  revoked: 'bad',
  offline: 'muted',
  planned: 'muted',
  pending: 'muted',
  draft: 'muted',
  excluded: 'muted',
  superseded: 'muted',
  closed: 'muted',
  none: 'muted',
};

export const toneOf = (state: string): string => TONES[state] ?? 'muted';

export function StatusBadge({ state, label }: { state: string; label?: string }) {
  return h('span', { class: `badge tone-${toneOf(state)}` }, (label ?? state).replace(/_/g, ' '));
}

/** A dot plus "online"/"offline", for device presence. */
export function Presence({ online }: { online: boolean }) {
  return h(
    'span',
    { class: `presence ${online ? 'on' : 'off'}` },
    h('span', { class: 'dot', 'aria-hidden': 'true' }),
    online ? 'online' : 'offline',
  );
}
