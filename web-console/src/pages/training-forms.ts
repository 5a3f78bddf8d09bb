// The forms that start work: one training run, or a sweep over a grid or random sample of settings.
import { h } from 'preact';
import { useState } from 'preact/hooks';
import { startRun, startSweep, type StartRunBody } from '../api/registry.ts';
import type { DatasetVersion } from '../api/types.ts';
import { Field, Select } from '../components/field.ts';
import { href, navigate } from '../router.ts';

/** Architectures offered by name; the server appends the softmax output layer. */
const PRESETS: Record<string, { label: string; spec?: unknown; imageOnly?: boolean }> = {
  default: { label: 'Server default (MLP 512-256 with dropout)' },
  small: { label: 'Small MLP (64 units)', spec: { layers: [{ type: 'dense', units: 64, activation: 'relu' }] } },
  tiny: { label: 'Tiny MLP (8 units)', spec: { layers: [{ type: 'dense', units: 8, activation: 'relu' }] } },
  cnn: {
    label: 'Small CNN (images)',
    imageOnly: true,
    spec: {
      layers: [
        { type: 'conv2d', filters: 16, kernelSize: 3, padding: 'same', activation: 'relu' },
        { type: 'maxPooling2d', poolSize: 2 },
        { type: 'conv2d', filters: 32, kernelSize: 3, padding: 'same', activation: 'relu' },
        { type: 'maxPooling2d', poolSize: 2 },
        { type: 'flatten' },
        { type: 'dense', units: 128, activation: 'relu' },
      ],
    },
  },
};

const val = (e: Event) => (e.currentTarget as HTMLInputElement).value;
const numbers = (text: string) =>
  text
    .split(/[\s,]+/)
    .filter(Boolean)
    .map(Number)
    .filter((n) => Number.isFinite(n));

export function TrainingForms({ datasets }: { datasets: DatasetVersion[] }) {
  const names = [...new Set(datasets.map((d) => d.name))];
  const [mode, setMode] = useState<'run' | 'sweep'>('run');
  const [dataset, setDataset] = useState(names[0] ?? 'mnist');
  const [model, setModel] = useState('');
  const [preset, setPreset] = useState('small');
  const [epochs, setEpochs] = useState('3');
  const [batchSize, setBatchSize] = useState('64');
  const [lr, setLr] = useState('0.001');
  const [optimizer, setOptimizer] = useState('adam');
  const [description, setDescription] = useState('');
  const [space, setSpace] = useState({ learningRate: '0.001, 0.003', batchSize: '32, 64' });
  const [method, setMethod] = useState<'grid' | 'random'>('grid');
  const [trials, setTrials] = useState('4');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  /** A sweep dimension: its candidate values, typed as a comma-separated list (`key` matches the run form's field it replaces). */
  const spaceField = (name: keyof typeof space, label: string, key: string) =>
    h(
      Field,
      { label, key, hint: 'comma-separated' },
      h('input', { name: `space.${name}`, value: space[name], onInput: (e: Event) => setSpace({ ...space, [name]: val(e) }) }),
    );

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const spec = PRESETS[preset]?.spec;
    const base: StartRunBody = {
      dataset,
      ...(model.trim() ? { model: model.trim() } : {}),
      ...(spec ? { spec } : {}),
      ...(description.trim() ? { description: description.trim() } : {}),
    };
    try {
      if (mode === 'run') {
        const r = await startRun({
          ...base,
          hyper: { epochs: Number(epochs), batchSize: Number(batchSize), learningRate: Number(lr), optimizer },
        });
        navigate(href('training', { run: r.id }));
      } else {
        const grid: Record<string, number[]> = {};
        if (numbers(space.learningRate).length) grid.learningRate = numbers(space.learningRate);
        if (numbers(space.batchSize).length) grid.batchSize = numbers(space.batchSize);
        const s = await startSweep({
          ...base,
          hyper: { epochs: Number(epochs), optimizer },
          method,
          space: grid,
          ...(method === 'random' ? { trials: Number(trials) } : {}),
          concurrency: 1,
        });
        navigate(href('training', { sweep: s.id }));
      }
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  const image = (datasets.find((d) => d.name === dataset)?.featureShape.length ?? 1) > 1;
  return h(
    'form',
    { class: 'stack', onSubmit: submit, 'aria-label': mode === 'run' ? 'Start a training run' : 'Start a sweep' },
    h(
      'div',
      { class: 'segmented', role: 'radiogroup', 'aria-label': 'What to start' },
      (['run', 'sweep'] as const).map((m) =>
        h(
          'button',
          { key: m, type: 'button', role: 'radio', 'aria-checked': mode === m, class: mode === m ? 'on' : '', onClick: () => setMode(m) },
          m === 'run' ? 'One run' : 'Sweep',
        ),
      ),
    ),
    h(
      'div',
      { class: 'form-grid' },
      h(
        Field,
        { label: 'Dataset' },
        h(
          'select',
          { name: 'dataset', value: dataset, onChange: (e: Event) => setDataset(val(e)) },
          names.map((n) => h('option', { key: n, value: n }, n)),
        ),
      ),
      h(
        Field,
        { label: 'Model name', hint: `default ${dataset}-classifier` },
        h('input', { name: 'model', value: model, placeholder: `${dataset}-classifier`, onInput: (e: Event) => setModel(val(e)) }),
      ),
      h(
        Field,
        { label: 'Architecture' },
        h(
          'select',
          { name: 'preset', value: preset, onChange: (e: Event) => setPreset(val(e)) },
          Object.entries(PRESETS)
            .filter(([, p]) => image || !p.imageOnly)
            .map(([k, p]) => h('option', { key: k, value: k }, p.label)),
        ),
      ),
      h(
        Field,
        { label: 'Epochs' },
        h('input', {
          name: 'epochs',
          type: 'number',
          min: 1,
          max: 1000,
          required: true,
          value: epochs,
          onInput: (e: Event) => setEpochs(val(e)),
        }),
      ),
      mode === 'run'
        ? [
            h(
              Field,
              { label: 'Batch size', key: 'b' },
              h('input', {
                name: 'batchSize',
                type: 'number',
                min: 1,
                max: 65536,
                value: batchSize,
                onInput: (e: Event) => setBatchSize(val(e)),
              }),
            ),
            h(
              Field,
              { label: 'Learning rate', key: 'l' },
              h('input', { name: 'learningRate', type: 'number', step: 'any', min: 0, value: lr, onInput: (e: Event) => setLr(val(e)) }),
            ),
          ]
        : [
            spaceField('learningRate', 'Learning rates', 'l'),
            spaceField('batchSize', 'Batch sizes', 'b'),
            h(
              Field,
              { label: 'Search', key: 'm' },
              h(Select<'grid' | 'random'>, {
                name: 'method',
                value: method,
                options: [
                  ['grid', 'grid: every combination'],
                  ['random', 'random sample'],
                ],
                onPick: setMethod,
              }),
            ),
            method === 'random'
              ? h(
                  Field,
                  { label: 'Trials', key: 't' },
                  h('input', { name: 'trials', type: 'number', min: 1, max: 200, value: trials, onInput: (e: Event) => setTrials(val(e)) }),
                )
              : null,
          ],
      h(
        Field,
        { label: 'Optimizer' },
        h(
          'select',
          { name: 'optimizer', value: optimizer, onChange: (e: Event) => setOptimizer(val(e)) },
          ['adam', 'sgd', 'rmsprop'].map((o) => h('option', { key: o, value: o }, o)),
        ),
      ),
      h(
        Field,
        { label: 'Description' },
        h('input', {
          name: 'description',
          value: description,
          maxLength: 1000,
          placeholder: 'what this run tries',
          onInput: (e: Event) => setDescription(val(e)),
        }),
      ),
    ),
    error ? h('p', { class: 'notice error', role: 'alert' }, error) : null,
    h(
      'div',
      { class: 'row gap' },
      h(
        'button',
        { type: 'submit', class: 'btn btn-primary', disabled: busy },
        busy ? 'Starting…' : mode === 'run' ? 'Start training' : 'Start sweep',
      ),
      h(
        'span',
        { class: 'muted small' },
        mode === 'sweep' ? 'The best trial is registered as a new version.' : 'The result is registered as a new version of the model.',
      ),
    ),
  );
}
