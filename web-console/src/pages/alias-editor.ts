// Moving an alias (champion, challenger, any name) to another version, confirmed with a reason. Only
// operators see the buttons; the server refuses everyone else anyway.
import { h } from 'preact';
import { useState } from 'preact/hooks';
import { moveAlias } from '../api/registry.ts';
import { useCan } from '../api/session.ts';
import type { ModelVersion } from '../api/types.ts';
import { ConfirmDialog } from '../components/confirm-dialog.ts';
import { Field } from '../components/field.ts';
import { pct } from '../format.ts';

const ALIAS = /^[a-z][a-z0-9_-]{0,31}$/;

export function AliasDialog({
  model,
  versions,
  alias,
  initial,
  onClose,
  onMoved,
}: {
  model: string;
  versions: ModelVersion[];
  alias: string | null;
  initial: number;
  onClose(): void;
  onMoved(): void;
}) {
  const [name, setName] = useState(alias ?? 'champion');
  const [version, setVersion] = useState(initial);
  const from = alias ? versions.find((v) => v.aliases.includes(alias))?.version : undefined;
  return h(
    ConfirmDialog,
    {
      title: alias ? `Move alias “${alias}”` : 'Point an alias at a version',
      confirmLabel: 'Move alias',
      onClose,
      onConfirm: async (reason: string) => {
        if (!ALIAS.test(name) || name === 'latest') throw new Error('An alias is lower-case letters, digits, - or _ (and not “latest”).');
        await moveAlias(model, name, version, reason);
        onMoved();
      },
    },
    alias
      ? null
      : h(
          Field,
          { label: 'Alias' },
          h('input', {
            name: 'alias',
            value: name,
            required: true,
            pattern: '[a-z][a-z0-9_-]{0,31}',
            onInput: (e: Event) => setName((e.currentTarget as HTMLInputElement).value),
          }),
        ),
    h(
      Field,
      { label: 'Version' },
      h(
        'select',
        {
          name: 'version',
          value: String(version),
          onChange: (e: Event) => setVersion(Number((e.currentTarget as HTMLSelectElement).value)),
        },
        versions.map((v) =>
          h(
            'option',
            { key: v.version, value: String(v.version) },
            `v${v.version}${typeof v.metrics?.accuracy === 'number' ? ` · accuracy ${pct(v.metrics.accuracy as number)}` : ''}${v.aliases.length ? ` · ${v.aliases.join(', ')}` : ''}`,
          ),
        ),
      ),
    ),
    h(
      'p',
      { class: 'muted small' },
      from !== undefined ? `Now at v${from}. ` : '',
      'Devices and rollouts that follow this alias pick up the new version from here on.',
    ),
  );
}

/** The aliases of a model as rows with a Move button each, plus "Add alias". */
export function AliasPanel({ model, versions, onMoved }: { model: string; versions: ModelVersion[]; onMoved(): void }) {
  const can = useCan('operator');
  const [editing, setEditing] = useState<{ alias: string | null } | null>(null);
  const aliases = versions.flatMap((v) => v.aliases.map((a) => ({ alias: a, version: v.version })));
  return h(
    'div',
    null,
    aliases.length === 0 ? h('p', { class: 'notice muted' }, 'No aliases yet. Point “champion” at the version devices should run.') : null,
    h(
      'ul',
      { class: 'alias-list' },
      aliases.map((a) =>
        h(
          'li',
          { key: a.alias, 'data-alias': a.alias },
          h('span', { class: 'chip alias' }, a.alias),
          h('span', null, `→ v${a.version}`),
          can
            ? h(
                'button',
                {
                  type: 'button',
                  class: 'btn btn-quiet',
                  onClick: () => setEditing({ alias: a.alias }),
                  'aria-label': `Move alias ${a.alias}`,
                },
                'Move…',
              )
            : null,
        ),
      ),
    ),
    can ? h('button', { type: 'button', class: 'btn', onClick: () => setEditing({ alias: null }) }, 'Add alias…') : null,
    editing
      ? h(AliasDialog, {
          model,
          versions,
          alias: editing.alias,
          onClose: () => setEditing(null),
          onMoved,
          initial: versions[0]?.version ?? 1,
        })
      : null,
  );
}
