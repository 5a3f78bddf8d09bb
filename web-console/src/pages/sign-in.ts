// Sign-in with an operator token: checked against the server before anything else is shown.
import { h } from 'preact';
import { useState } from 'preact/hooks';
import { signIn } from '../api/session.ts';
import { Field } from '../components/field.ts';

export function SignInPage({ notice }: { notice: string | null }) {
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!token.trim()) return;
    setBusy(true);
    try {
      await signIn(token);
    } catch {
      setBusy(false); // the session's notice says why
    }
  };
  return h(
    'main',
    { class: 'signin' },
    h(
      'form',
      { class: 'card signin-card', onSubmit: submit, 'aria-describedby': notice ? 'signin-notice' : undefined },
      h('div', { class: 'brand big' }, h('img', { src: '/favicon.svg', alt: '', width: 32, height: 32 }), h('span', null, 'Flotilla')),
      h('h1', null, 'Sign in to the console'),
      h(
        'p',
        { class: 'muted' },
        'Paste an operator token. Viewers can look; operators can also act; admins manage tokens. Make one with ',
        h('code', null, 'flotilla tokens create --name NAME --role operator'),
        '.',
      ),
      h(
        Field,
        { label: 'Token' },
        h('input', {
          type: 'password',
          name: 'token',
          autoComplete: 'off',
          autoFocus: true,
          required: true,
          value: token,
          spellcheck: false,
          onInput: (e: Event) => setToken((e.currentTarget as HTMLInputElement).value),
        }),
      ),
      notice ? h('p', { id: 'signin-notice', class: 'notice error', role: 'alert' }, notice) : null,
      h('button', { type: 'submit', class: 'btn btn-primary wide', disabled: busy }, busy ? 'Checking…' : 'Sign in'),
      h('p', { class: 'fine muted' }, 'The token is kept in this tab only (sessionStorage) and sent to this server alone.'),
    ),
  );
}
