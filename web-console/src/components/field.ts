// A labelled form field: the caption, the control, and an optional hint under it, in the one layout every form uses.
import { h, type ComponentChildren } from 'preact';

/** `inline`: caption and control on one line (filters and the stage rows), as the `field inline` style lays them out. */
export function Field(p: { label: ComponentChildren; children?: ComponentChildren; hint?: string; inline?: boolean }) {
  return h(
    'label',
    { class: p.inline ? 'field inline' : 'field' },
    h('span', null, p.label),
    p.children,
    p.hint ? h('small', { class: 'muted' }, p.hint) : null,
  );
}

/** A drop-down of `options` (value and the words shown for it) that hands the chosen value to `onPick`. */
export function Select<V extends string>(p: {
  name: string;
  value: V;
  options: readonly (readonly [V, string])[];
  onPick(value: V): void;
}) {
  return h(
    'select',
    { name: p.name, value: p.value, onChange: (e: Event) => p.onPick((e.currentTarget as HTMLSelectElement).value as V) },
    p.options.map(([value, words]) => h('option', { key: value, value }, words)),
  );
}
