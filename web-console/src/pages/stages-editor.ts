// The wizard's stages step: cumulative shares, bake times, shadow stages, each stage's health gates,
// and the policy for advancing and for a failed gate.
import { h } from 'preact';
import { Field, Select } from '../components/field.ts';
import { num } from '../format.ts';
import { DEFAULT_GATES, GATES, type GateName } from './rollout-text.ts';
import { PRESETS, stage, type StageDraft, type WizardDraft } from './wizard-state.ts';

const val = (e: Event) => (e.currentTarget as HTMLInputElement).value;

function GateInputs({ s, i, update }: { s: StageDraft; i: number; update(p: Partial<StageDraft>): void }) {
  const gates = s.gates ?? DEFAULT_GATES;
  const shown = (g: (typeof GATES)[number]) => {
    const v = gates[g.name];
    return v === null ? '' : g.unit === 'share' ? String(+(v * 100).toFixed(4)) : String(v);
  };
  const change = (name: GateName, unit: string, text: string) => {
    const n = text.trim() === '' ? null : Number(text);
    const v = n === null || !Number.isFinite(n) ? null : unit === 'share' ? n / 100 : n;
    update({ gates: { ...gates, [name]: v } });
  };
  return h(
    'details',
    { class: 'gates', open: s.gates !== null },
    h('summary', null, s.gates ? 'Health gates (custom)' : 'Health gates (server defaults)'),
    h('p', { class: 'muted small' }, "Judged on this stage's devices once the bake ends. Leave a field empty to switch that gate off."),
    h(
      'div',
      { class: 'gate-grid' },
      GATES.filter((g) => !g.name.includes('Disagreement') || s.shadow).map((g) =>
        h(
          'label',
          { key: g.name, class: 'field', title: g.help },
          h('span', null, `${g.label}${g.unit === 'share' ? ' (%)' : g.unit === 'ms' ? ' (ms)' : ' (PSI)'}`),
          h('input', {
            name: `stage-${i}-${g.name}`,
            type: 'number',
            step: 'any',
            min: 0,
            value: shown(g),
            placeholder: 'off',
            onInput: (e: Event) => change(g.name, g.unit, val(e)),
          }),
        ),
      ),
    ),
    s.gates
      ? h('button', { type: 'button', class: 'btn btn-quiet', onClick: () => update({ gates: null }) }, 'Back to the defaults')
      : null,
  );
}

export function StagesEditor({ d, set, sizes }: { d: WizardDraft; set(p: Partial<WizardDraft>): void; sizes: number[] }) {
  const update = (i: number, p: Partial<StageDraft>) => set({ stages: d.stages.map((s, j) => (j === i ? { ...s, ...p } : s)) });
  return h(
    'div',
    { class: 'stack' },
    h(
      'div',
      { class: 'row gap wrap' },
      h('span', { class: 'muted small' }, 'Start from:'),
      PRESETS.map((p) =>
        h(
          'button',
          {
            key: p.label,
            type: 'button',
            class: 'btn btn-quiet',
            onClick: () => set({ stages: p.stages.map((x) => stage(x, d.stages[0]?.bakeMin ?? 10)) }),
          },
          p.label,
        ),
      ),
    ),
    h(
      'ol',
      { class: 'stage-list' },
      d.stages.map((s, i) =>
        h(
          'li',
          { key: i, class: 'card inset stage-edit', 'data-stage': i },
          h(
            'div',
            { class: 'row gap wrap' },
            h('strong', null, `Stage ${i + 1}`),
            h(
              Field,
              { label: 'Cumulative share (%)', inline: true },
              h('input', {
                name: `stage-${i}-percent`,
                type: 'number',
                min: 1,
                max: 100,
                step: 'any',
                required: true,
                value: s.percent,
                onInput: (e: Event) => update(i, { percent: Number(val(e)) }),
              }),
            ),
            h(
              Field,
              { label: 'Bake (minutes)', inline: true },
              h('input', {
                name: `stage-${i}-bake`,
                type: 'number',
                min: 0,
                step: 'any',
                value: s.bakeMin,
                onInput: (e: Event) => update(i, { bakeMin: Number(val(e)) }),
              }),
            ),
            h(
              'label',
              { class: 'check' },
              h('input', {
                type: 'checkbox',
                name: `stage-${i}-shadow`,
                checked: s.shadow,
                onChange: () => update(i, { shadow: !s.shadow }),
              }),
              ' shadow (runs beside the current model, answers nothing)',
            ),
            h('span', { class: 'muted small' }, sizes[i] !== undefined ? `${num(sizes[i])} device${sizes[i] === 1 ? '' : 's'}` : ''),
            d.stages.length > 1
              ? h(
                  'button',
                  {
                    type: 'button',
                    class: 'btn btn-quiet',
                    onClick: () => set({ stages: d.stages.filter((_, j) => j !== i) }),
                    'aria-label': `Remove stage ${i + 1}`,
                  },
                  'Remove',
                )
              : null,
          ),
          h(GateInputs, { s, i, update: (p) => update(i, p) }),
        ),
      ),
    ),
    d.stages.length < 20 && (d.stages.at(-1)?.percent ?? 0) < 100
      ? h(
          'button',
          { type: 'button', class: 'btn', onClick: () => set({ stages: [...d.stages, stage(100, d.stages.at(-1)?.bakeMin ?? 10)] }) },
          'Add stage',
        )
      : null,
    h(
      'div',
      { class: 'form-grid' },
      h(
        Field,
        { label: 'Advance' },
        h(Select<WizardDraft['advance']>, {
          name: 'advance',
          value: d.advance,
          options: [
            ['auto', 'automatically when the gates hold'],
            ['approval', 'only when an operator approves'],
          ],
          onPick: (advance) => set({ advance }),
        }),
      ),
      h(
        Field,
        { label: 'When a gate fails' },
        h(Select<WizardDraft['onGateFail']>, {
          name: 'onGateFail',
          value: d.onGateFail,
          options: [
            ['pause', 'pause for a person'],
            ['abort', 'abort'],
          ],
          onPick: (onGateFail) => set({ onGateFail }),
        }),
      ),
      h(
        Field,
        { label: 'Devices per minute (at most)' },
        h('input', {
          name: 'devicesPerMinute',
          type: 'number',
          min: 1,
          value: d.devicesPerMinute,
          onInput: (e: Event) => set({ devicesPerMinute: Number(val(e)) }),
        }),
      ),
    ),
  );
}
