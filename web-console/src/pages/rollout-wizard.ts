// The rollout wizard: bundle, target (with a live count of matching devices), stages and their gates,
// then a review that creates and starts the rollout.
import { h } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { listBundles } from '../api/fleet.ts';
import { createRollout, previewTarget } from '../api/rollouts.ts';
import { useCan } from '../api/session.ts';
import { useResource } from '../api/use-resource.ts';
import { isMissingRoute } from '../api/http.ts';
import type { BundleRecord, RolloutPreview } from '../api/types.ts';
import { Field } from '../components/field.ts';
import { guard, Unavailable } from '../components/notices.ts';
import { PageHeader } from '../components/page-header.ts';
import { ago, bytes, num, shortId } from '../format.ts';
import { href, navigate } from '../router.ts';
import { describeTarget, targetShorthand } from './rollout-text.ts';
import { StagesEditor } from './stages-editor.ts';
import { initialDraft, requestOf, stageProblems, targetOf, targetReady, type WizardDraft } from './wizard-state.ts';

const STEPS = ['Bundle', 'Target', 'Stages', 'Review'] as const;
const val = (e: Event) => (e.currentTarget as HTMLInputElement).value;

function BundleStep({ bundles, value, onPick }: { bundles: BundleRecord[]; value: string | null; onPick(id: string): void }) {
  if (bundles.length === 0)
    return h('p', { class: 'notice muted' }, 'No bundles yet. Make one from a model version (flotilla bundle create MODEL@VERSION).');
  return h(
    'fieldset',
    { class: 'choice-list' },
    h('legend', null, 'Which bundle should devices run?'),
    bundles.map((b) =>
      h(
        'label',
        { key: b.id, class: `choice ${value === b.id ? 'on' : ''}` },
        h('input', { type: 'radio', name: 'bundle', value: b.id, checked: value === b.id, onChange: () => onPick(b.id) }),
        h(
          'span',
          { class: 'choice-main' },
          h('strong', { class: 'mono' }, `${b.model}@${b.version}`),
          h('span', { class: 'muted small' }, ` registry v${b.modelVersion} · sequence ${b.sequence}`),
        ),
        h('span', { class: 'muted small' }, `${bytes(b.bytes)} · ${shortId(b.id, 10)} · ${ago(b.createdAt)}`),
      ),
    ),
  );
}

/** Counts the devices a target matches, as the operator types (debounced). */
function useLivePreview(d: WizardDraft, model: string | undefined) {
  const [state, setState] = useState<{ preview: RolloutPreview | null; error: string | null; missing: boolean; busy: boolean }>({
    preview: null,
    error: null,
    missing: false,
    busy: false,
  });
  const target = targetReady(d.target) ? targetShorthand(targetOf(d.target)) : '';
  const stages = d.stages.map((s) => s.percent).join(',');
  useEffect(() => {
    if (!target) {
      setState({ preview: null, error: null, missing: false, busy: false });
      return;
    }
    setState((s) => ({ ...s, busy: true }));
    let live = true;
    const t = setTimeout(() => {
      previewTarget(target, stages || undefined, model).then(
        (preview) => live && setState({ preview, error: null, missing: false, busy: false }),
        (e: Error) => live && setState({ preview: null, error: e.message, missing: isMissingRoute(e), busy: false }),
      );
    }, 250);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [target, stages, model]);
  return state;
}

function TargetStep({ d, set, live }: { d: WizardDraft; set(p: Partial<WizardDraft>): void; live: ReturnType<typeof useLivePreview> }) {
  const t = d.target;
  const kinds: [WizardDraft['target']['kind'], string][] = [
    ['tags', 'Devices with tags'],
    ['groups', 'Devices in groups'],
    ['devices', 'Listed devices'],
    ['all', 'The whole fleet'],
  ];
  return h(
    'div',
    { class: 'stack' },
    h(
      'fieldset',
      { class: 'segmented' },
      h('legend', { class: 'sr-only' }, 'Target by'),
      kinds.map(([k, label]) =>
        h(
          'label',
          { key: k, class: t.kind === k ? 'on' : '' },
          h('input', {
            type: 'radio',
            name: 'target-kind',
            value: k,
            checked: t.kind === k,
            onChange: () => set({ target: { ...t, kind: k } }),
          }),
          label,
        ),
      ),
    ),
    t.kind !== 'all'
      ? h(
          Field,
          { label: t.kind === 'tags' ? 'Tags (a device needs all of them)' : t.kind === 'groups' ? 'Groups (any of them)' : 'Device ids' },
          h('input', {
            name: 'target-words',
            value: t.words,
            placeholder: t.kind === 'tags' ? 'e.g. car eu' : t.kind === 'groups' ? 'e.g. canary' : 'car-0001, car-0002',
            onInput: (e: Event) => set({ target: { ...t, words: val(e) } }),
          }),
        )
      : null,
    t.kind !== 'all'
      ? h(
          Field,
          { label: 'And attributes (optional)' },
          h('input', {
            name: 'target-attributes',
            value: t.attributes,
            placeholder: 'region=north, hw=rev2',
            onInput: (e: Event) => set({ target: { ...t, attributes: val(e) } }),
          }),
        )
      : null,
    h(
      'div',
      { class: 'live-count card inset', 'aria-live': 'polite', 'data-live-count': live.preview?.matching ?? '' },
      live.missing
        ? h(Unavailable, { what: 'Target preview' })
        : !targetReady(t)
          ? h('span', { class: 'muted' }, 'Name tags, groups or devices to see how many match.')
          : live.error
            ? h('span', { class: 'notice error' }, live.error)
            : live.preview
              ? h(
                  'div',
                  null,
                  h('span', { class: 'big-number' }, num(live.preview.matching)),
                  ` device${live.preview.matching === 1 ? '' : 's'} match `,
                  h('code', null, describeTarget(targetOf(t))),
                  h(
                    'div',
                    { class: 'muted small' },
                    `${num(live.preview.online)} online now${live.preview.held ? ` · ${num(live.preview.held)} held by another active rollout of this model` : ''}`,
                  ),
                )
              : h('span', { class: 'muted' }, 'Counting…'),
    ),
  );
}

function Review({
  d,
  bundle,
  live,
  set,
}: {
  d: WizardDraft;
  bundle: BundleRecord | undefined;
  live: ReturnType<typeof useLivePreview>;
  set(p: Partial<WizardDraft>): void;
}) {
  const sizes = live.preview?.stageSizes ?? [];
  return h(
    'div',
    { class: 'stack' },
    h(
      'dl',
      { class: 'kv' },
      h('dt', null, 'Bundle'),
      h('dd', { class: 'mono' }, bundle ? `${bundle.model}@${bundle.version} (${shortId(bundle.id, 10)})` : '–'),
      h('dt', null, 'Target'),
      h(
        'dd',
        null,
        h('code', null, describeTarget(targetOf(d.target))),
        live.preview ? ` · ${num(live.preview.matching)} devices now` : '',
      ),
      h('dt', null, 'Stages'),
      h(
        'dd',
        null,
        d.stages
          .map(
            (s, i) =>
              `${s.shadow ? 'shadow ' : ''}${s.percent}%${sizes[i] !== undefined ? ` (${num(sizes[i])})` : ''}, bake ${s.bakeMin} min${s.gates ? ', custom gates' : ''}`,
          )
          .join(' → '),
      ),
      h('dt', null, 'Advance'),
      h('dd', null, d.advance === 'auto' ? "automatically when a stage's gates hold" : 'only when an operator approves each stage'),
      h('dt', null, 'On a failed gate'),
      h('dd', null, d.onGateFail === 'pause' ? 'pause and wait for a person' : 'abort the rollout'),
      h('dt', null, 'Pace'),
      h('dd', null, `at most ${num(d.devicesPerMinute)} devices a minute`),
    ),
    live.preview?.held
      ? h(
          'label',
          { class: 'check notice unavailable' },
          h('input', { type: 'checkbox', name: 'supersede', checked: d.supersede, onChange: () => set({ supersede: !d.supersede }) }),
          ` Take over the ${num(live.preview.held)} device${live.preview.held === 1 ? '' : 's'} another active rollout of this model holds (that rollout lets them go)`,
        )
      : null,
    h(
      Field,
      { label: 'Reason (kept in the audit record)' },
      h('input', {
        name: 'reason',
        value: d.reason,
        maxLength: 500,
        placeholder: 'why this rollout',
        onInput: (e: Event) => set({ reason: val(e) }),
      }),
    ),
  );
}

export function RolloutWizardPage({ query }: { query: URLSearchParams }) {
  const can = useCan('operator');
  const bundles = useResource(() => listBundles({ limit: 100 }), []);
  const [d, setD] = useState<WizardDraft>(() => initialDraft(query.get('bundle')));
  const [step, setStep] = useState(0);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const set = (p: Partial<WizardDraft>) => setD((x) => ({ ...x, ...p }));
  // Arriving from a model page: preselect that model's newest bundle.
  useEffect(() => {
    const m = query.get('model');
    if (!d.bundle && bundles.data?.length) {
      const pick = bundles.data.find((b) => !m || b.model === m);
      if (pick) set({ bundle: pick.id });
    }
  }, [bundles.data]);
  const bundle = bundles.data?.find((b) => b.id === d.bundle);
  const live = useLivePreview(d, bundle?.model);
  if (!can)
    return h(
      'div',
      { class: 'page' },
      h(PageHeader, { title: 'New rollout' }),
      h('p', { class: 'notice muted' }, 'Creating a rollout needs an operator token.'),
    );

  const problems =
    step === 0
      ? d.bundle
        ? []
        : ['Choose a bundle.']
      : step === 1
        ? targetReady(d.target)
          ? live.preview && live.preview.matching === 0
            ? ['No device matches this target yet (late joiners would still be included).']
            : []
          : ['Name what to target.']
        : step === 2
          ? stageProblems(d.stages)
          : [];
  const blocking = step === 1 ? !targetReady(d.target) : problems.length > 0;
  const create = async () => {
    setBusy(true);
    setError(null);
    try {
      const r = await createRollout(requestOf(d));
      navigate(href(['rollouts', r.id]));
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
      setBusy(false);
    }
  };

  return h(
    'div',
    { class: 'page' },
    h(PageHeader, {
      crumbs: [{ label: 'Rollouts', href: href('rollouts') }],
      title: 'New rollout',
      sub: 'Ship a bundle to part of the fleet first, watch it, then to the rest.',
    }),
    h(
      'ol',
      { class: 'stepper', 'aria-label': 'Steps' },
      STEPS.map((s, i) =>
        h(
          'li',
          { key: s, class: i === step ? 'on' : i < step ? 'done' : '', 'aria-current': i === step ? 'step' : undefined },
          h('button', { type: 'button', disabled: i > step, onClick: () => setStep(i) }, h('span', { class: 'step-n' }, i + 1), s),
        ),
      ),
    ),
    h(
      'form',
      {
        class: 'card wizard',
        'aria-label': `Step ${step + 1}: ${STEPS[step]}`,
        onSubmit: (e: Event) => {
          e.preventDefault();
          if (step < 3 && !blocking) setStep(step + 1);
          else if (step === 3) void create();
        },
      },
      h('h2', null, `${step + 1}. ${STEPS[step]}`),
      step === 0
        ? bundles.missing
          ? h(Unavailable, { what: 'Bundles' })
          : guard(bundles, 'Bundles', (list) => h(BundleStep, { bundles: list, value: d.bundle, onPick: (id) => set({ bundle: id }) }))
        : null,
      step === 1 ? h(TargetStep, { d, set, live }) : null,
      step === 2 ? h(StagesEditor, { d, set, sizes: live.preview?.stageSizes ?? [] }) : null,
      step === 3 ? h(Review, { d, bundle, live, set }) : null,
      problems.length
        ? h(
            'ul',
            { class: 'problems', role: 'status' },
            problems.map((p) => h('li', { key: p }, p)),
          )
        : null,
      error ? h('p', { class: 'notice error', role: 'alert' }, error) : null,
      h(
        'div',
        { class: 'wizard-nav' },
        step > 0 ? h('button', { type: 'button', class: 'btn', onClick: () => setStep(step - 1) }, '← Back') : h('span', null),
        step < 3
          ? h('button', { type: 'submit', class: 'btn btn-primary', disabled: blocking }, `Next: ${STEPS[step + 1]} →`)
          : h('button', { type: 'submit', class: 'btn btn-primary', disabled: busy }, busy ? 'Creating…' : 'Create and start rollout'),
      ),
    ),
  );
}
