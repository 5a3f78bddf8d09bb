// A dense table whose rows come a page at a time from the server (cursor paging), so 10,000 devices
// cost the browser one page of rows. Columns render cells; the caption names the table for screen readers.
import { h, type ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { num } from '../format.ts';

export interface Column<T> {
  label: string;
  cell(row: T): ComponentChildren;
  /** e.g. 'num' (right-aligned figures) or 'hide-narrow' (dropped on small screens). */
  class?: string;
}

export interface TableProps<T> {
  caption: string;
  columns: Column<T>[];
  rows: T[];
  rowKey(row: T): string;
  empty?: ComponentChildren;
  /** Marks a row (e.g. the differing rows of a comparison). */
  rowClass?(row: T): string | undefined;
}

export function DataTable<T>(p: TableProps<T>) {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'table' },
      h('caption', { class: 'sr-only' }, p.caption),
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          p.columns.map((c) => h('th', { scope: 'col', class: c.class, key: c.label }, c.label)),
        ),
      ),
      h(
        'tbody',
        null,
        p.rows.length === 0
          ? h('tr', null, h('td', { colSpan: p.columns.length, class: 'empty' }, p.empty ?? 'Nothing here yet.'))
          : p.rows.map((r) =>
              h(
                'tr',
                { key: p.rowKey(r), class: p.rowClass?.(r) },
                p.columns.map((c) => h('td', { class: c.class, key: c.label }, c.cell(r))),
              ),
            ),
      ),
    ),
  );
}

/** Cursor paging state: the server hands out `next`; going back re-uses the cursors already seen. */
export function useCursorPages(resetKey: string) {
  const [stack, setStack] = useState<(string | undefined)[]>([undefined]);
  useEffect(() => setStack([undefined]), [resetKey]);
  const page = stack.length - 1;
  return {
    cursor: stack[page],
    page,
    next: (cursor: string) => setStack((s) => [...s, cursor]),
    prev: () => setStack((s) => (s.length > 1 ? s.slice(0, -1) : s)),
    first: () => setStack([undefined]),
  };
}

export function Pager(p: {
  page: number;
  pageSize: number;
  shown: number;
  total: number | null;
  next: string | null;
  onNext(c: string): void;
  onPrev(): void;
  label: string;
}) {
  const from = p.page * p.pageSize + (p.shown ? 1 : 0);
  const to = p.page * p.pageSize + p.shown;
  return h(
    'nav',
    { class: 'pager', 'aria-label': `${p.label} pages` },
    h('span', { class: 'muted', 'aria-live': 'polite' }, `${num(from)}–${num(to)}${p.total === null ? '' : ` of ${num(p.total)}`}`),
    h('button', { type: 'button', class: 'btn', disabled: p.page === 0, onClick: p.onPrev, 'aria-label': 'Previous page' }, '← Prev'),
    h(
      'button',
      { type: 'button', class: 'btn', disabled: !p.next, onClick: () => p.next && p.onNext(p.next), 'aria-label': 'Next page' },
      'Next →',
    ),
  );
}
