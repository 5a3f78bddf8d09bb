// The title row of a page: heading, a line of context, and the page's actions on the right.
import { h, type ComponentChildren } from 'preact';
import { useEffect } from 'preact/hooks';

export function PageHeader({
  title,
  sub,
  actions,
  crumbs,
}: {
  title: ComponentChildren;
  sub?: ComponentChildren;
  actions?: ComponentChildren;
  crumbs?: { label: string; href: string }[];
}) {
  useEffect(() => {
    document.title = `${typeof title === 'string' ? title : 'Flotilla'} · Flotilla`;
  }, [title]);
  return h(
    'header',
    { class: 'page-header' },
    h(
      'div',
      null,
      crumbs?.length
        ? h(
            'nav',
            { class: 'crumbs', 'aria-label': 'Breadcrumb' },
            crumbs.map((c) => h('a', { href: c.href, key: c.href }, c.label)),
          )
        : null,
      h('h1', null, title),
      sub ? h('p', { class: 'sub' }, sub) : null,
    ),
    actions ? h('div', { class: 'actions' }, actions) : null,
  );
}

/** A titled block of a page. */
export function Section({
  title,
  actions,
  children,
  id,
}: {
  title: ComponentChildren;
  actions?: ComponentChildren;
  children?: ComponentChildren;
  id?: string;
}) {
  const headingId = id ? `${id}-h` : undefined;
  return h(
    'section',
    { class: 'card', id, 'aria-labelledby': headingId },
    h('div', { class: 'card-head' }, h('h2', { id: headingId }, title), actions ? h('div', { class: 'actions' }, actions) : null),
    children,
  );
}

/** A big number with its label, optionally a link and a detail line. */
export function Stat({
  label,
  value,
  detail,
  href,
  tone,
}: {
  label: string;
  value: ComponentChildren;
  detail?: ComponentChildren;
  href?: string;
  tone?: string;
}) {
  const body = [
    h('span', { class: 'stat-label' }, label),
    h('span', { class: 'stat-value' }, value),
    detail ? h('span', { class: 'stat-detail' }, detail) : null,
  ];
  return href
    ? h('a', { class: `stat ${tone ? `tone-${tone}` : ''}`, href, 'data-stat': label }, ...body)
    : h('div', { class: `stat ${tone ? `tone-${tone}` : ''}`, 'data-stat': label }, ...body);
}
