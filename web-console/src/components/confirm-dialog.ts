// A modal confirmation (native <dialog>: focus is trapped and Escape cancels) that asks why, runs the
// action, and stays open with the server's refusal if it fails.
import { h, type ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { Field } from './field.ts';

export interface ConfirmProps {
  title: string;
  children?: ComponentChildren;
  confirmLabel: string;
  danger?: boolean;
  /** Ask for a reason (kept in the server's audit record). Default true. */
  reason?: boolean;
  onConfirm(reason: string): Promise<unknown>;
  onClose(): void;
}

export function ConfirmDialog(p: ConfirmProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const needReason = p.reason !== false;

  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => d?.close();
  }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (needReason && !reason.trim()) {
      setError('Say why: the reason is kept with the action in the audit record.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await p.onConfirm(reason.trim());
      p.onClose();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      setBusy(false);
    }
  };

  return h(
    'dialog',
    {
      ref,
      class: 'dialog',
      'aria-labelledby': 'dlg-title',
      onCancel: (e: Event) => {
        e.preventDefault();
        if (!busy) p.onClose();
      },
    },
    h(
      'form',
      { onSubmit: submit, method: 'dialog' },
      h('h2', { id: 'dlg-title' }, p.title),
      h('div', { class: 'dialog-body' }, p.children),
      needReason
        ? h(
            Field,
            { label: 'Reason' },
            h('textarea', {
              name: 'reason',
              rows: 2,
              'aria-required': 'true',
              maxLength: 500,
              value: reason,
              placeholder: 'Why? Kept in the audit record.',
              onInput: (e: Event) => setReason((e.currentTarget as HTMLTextAreaElement).value),
            }),
          )
        : null,
      error ? h('p', { class: 'notice error', role: 'alert' }, error) : null,
      h(
        'div',
        { class: 'dialog-actions' },
        h('button', { type: 'button', class: 'btn', onClick: p.onClose, disabled: busy }, 'Cancel'),
        h(
          'button',
          { type: 'submit', class: `btn ${p.danger ? 'btn-danger' : 'btn-primary'}`, disabled: busy },
          busy ? 'Working…' : p.confirmLabel,
        ),
      ),
    ),
  );
}
