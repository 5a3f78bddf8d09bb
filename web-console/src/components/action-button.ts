// A button for something only some roles may do: absent for the others (the server refuses them anyway),
// and confirmed in a dialog that asks why when the action changes the fleet or the registry.
import { h, type ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { useCan } from '../api/session.ts';
import type { Role } from '../api/types.ts';
import { ConfirmDialog } from './confirm-dialog.ts';

export interface ActionButtonProps {
  label: string;
  /** The least role that may do this. Default operator. */
  role?: Role;
  /** Confirmation dialog; without one the action runs on click. */
  confirm?: { title: string; body?: ComponentChildren; confirmLabel?: string; danger?: boolean; reason?: boolean };
  primary?: boolean;
  danger?: boolean;
  disabled?: boolean;
  /** Receives the reason typed in the dialog ('' without a dialog). */
  run(reason: string): Promise<unknown>;
  onDone?(): void;
}

export function ActionButton(p: ActionButtonProps) {
  const allowed = useCan(p.role ?? 'operator');
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (!allowed) return null;
  const cls = `btn ${p.danger ? 'btn-danger' : p.primary ? 'btn-primary' : ''}`;
  const click = async () => {
    if (p.confirm) return setOpen(true);
    setBusy(true);
    setError(null);
    try {
      await p.run('');
      p.onDone?.();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return h(
    'span',
    { class: 'action' },
    h('button', { type: 'button', class: cls, disabled: p.disabled || busy, onClick: click, 'data-action': p.label }, p.label),
    error ? h('span', { class: 'inline-error', role: 'alert' }, error) : null,
    open && p.confirm
      ? h(
          ConfirmDialog,
          {
            title: p.confirm.title,
            confirmLabel: p.confirm.confirmLabel ?? p.label,
            danger: p.confirm.danger ?? p.danger,
            reason: p.confirm.reason,
            onConfirm: async (reason: string) => {
              await p.run(reason);
              p.onDone?.();
            },
            onClose: () => setOpen(false),
          },
          p.confirm.body,
        )
      : null,
  );
}
