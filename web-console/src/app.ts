// The console's frame: sign-in gate, navigation, who is signed in, and the page for the current route.
import { h } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { signOut, useSession } from './api/session.ts';
import { Loading } from './components/notices.ts';
import { StatusBadge } from './components/status-badge.ts';
import { DevicePage } from './pages/device.ts';
import { DevicesPage } from './pages/devices.ts';
import { ModelPage } from './pages/model.ts';
import { ModelsPage } from './pages/models.ts';
import { MonitoringPage } from './pages/monitoring.ts';
import { OverviewPage } from './pages/overview.ts';
import { RolloutViewPage } from './pages/rollout-view.ts';
import { RolloutWizardPage } from './pages/rollout-wizard.ts';
import { RolloutsPage } from './pages/rollouts.ts';
import { RunsComparePage } from './pages/runs-compare.ts';
import { SignInPage } from './pages/sign-in.ts';
import { TrainingPage } from './pages/training.ts';
import { WebhooksPage } from './pages/webhooks.ts';
import { href, useRoute, type Route } from './router.ts';

const NAV: [section: string, label: string][] = [
  ['overview', 'Overview'],
  ['devices', 'Devices'],
  ['models', 'Models'],
  ['training', 'Training'],
  ['rollouts', 'Rollouts'],
  ['monitoring', 'Monitoring'],
  ['webhooks', 'Webhooks'],
];

function page(r: Route) {
  const [section = 'overview', id, sub] = r.parts;
  switch (section) {
    case 'overview':
      return h(OverviewPage, null);
    case 'devices':
      return id ? h(DevicePage, { id }) : h(DevicesPage, { query: r.query });
    case 'models':
      return id ? h(ModelPage, { name: id, query: r.query }) : h(ModelsPage, null);
    case 'runs':
      return id === 'compare' ? h(RunsComparePage, { query: r.query }) : h(TrainingPage, { query: r.query });
    case 'training':
      return h(TrainingPage, { query: r.query });
    case 'rollouts':
      if (id === 'new') return h(RolloutWizardPage, { query: r.query });
      return id ? h(RolloutViewPage, { id, device: sub ?? r.query.get('device') }) : h(RolloutsPage, null);
    case 'monitoring':
      return h(MonitoringPage, { query: r.query });
    case 'webhooks':
      return h(WebhooksPage, null);
    default:
      return h(
        'div',
        { class: 'notice' },
        h('h1', null, 'No such page'),
        h('p', null, h('a', { href: href('overview') }, 'Go to the overview')),
      );
  }
}

export function App() {
  const session = useSession();
  const route = useRoute();
  const main = useRef<HTMLElement>(null);
  const section = route.parts[0] === 'runs' ? 'training' : (route.parts[0] ?? 'overview');
  // After navigation, screen readers start at the new page's content, not the top of the document.
  useEffect(() => {
    main.current?.focus({ preventScroll: true });
    window.scrollTo(0, 0);
    // On a narrow screen the nav scrolls sideways: keep the current section in view.
    document.querySelector('.nav a.active')?.scrollIntoView({ block: 'nearest', inline: 'nearest' });
  }, [route.parts.join('/')]);

  if (session.checking) return h('div', { class: 'center' }, h(Loading, { what: 'Checking your session' }));
  if (!session.me) return h(SignInPage, { notice: session.notice });
  const me = session.me;
  return h(
    'div',
    { class: 'shell' },
    h(
      'a',
      {
        class: 'skip-link',
        href: '#main',
        onClick: (e: Event) => {
          e.preventDefault();
          main.current?.focus();
        },
      },
      'Skip to content',
    ),
    h(
      'header',
      { class: 'topbar' },
      h(
        'a',
        { class: 'brand', href: href('overview'), 'aria-label': 'Flotilla overview' },
        h('img', { src: '/favicon.svg', alt: '', width: 22, height: 22 }),
        h('span', null, 'Flotilla'),
      ),
      h(
        'nav',
        { class: 'nav', 'aria-label': 'Main' },
        NAV.map(([s, label]) =>
          h(
            'a',
            { key: s, href: href(s), class: section === s ? 'active' : undefined, 'aria-current': section === s ? 'page' : undefined },
            label,
          ),
        ),
      ),
      h(
        'div',
        { class: 'whoami' },
        h('span', { class: 'who', title: `token ${me.id}` }, me.name),
        h(StatusBadge, { state: me.role === 'viewer' ? 'pending' : 'active', label: me.role }),
        h('button', { type: 'button', class: 'btn btn-quiet', onClick: () => signOut() }, 'Sign out'),
      ),
    ),
    h('main', { id: 'main', ref: main, tabIndex: -1, class: 'main' }, page(route)),
  );
}
