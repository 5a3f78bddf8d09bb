// A labelled form field: the caption, the control, and an optional hint under it, in the one layout every form uses.
import { h, type ComponentChildren } from 'preact';

export function Field({ label, children, hint }: { label: ComponentChildren; children?: ComponentChildren; hint?: string }) {
  return h('label', { class: 'field' }, h('span', null, label), children, hint ? h('small', { class: 'muted' }, hint) : null);
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
