// A confusion matrix as a shaded grid: rows are true classes, columns predictions; the diagonal is right.
import { h } from 'preact';

export function ConfusionMatrix({ matrix, labels }: { matrix: number[][]; labels: string[] }) {
  const max = Math.max(1, ...matrix.flat());
  const name = (i: number) => labels[i] ?? String(i);
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'confusion' },
      h('caption', { class: 'sr-only' }, 'Confusion matrix: rows are true classes, columns are predicted classes'),
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'true class')),
          matrix.map((_, j) => h('th', { scope: 'col', key: j }, name(j))),
        ),
      ),
      h(
        'tbody',
        null,
        matrix.map((row, i) =>
          h(
            'tr',
            { key: i },
            h('th', { scope: 'row' }, name(i)),
            row.map((v, j) =>
              h(
                'td',
                {
                  key: j,
                  class: i === j ? 'diag' : 'off',
                  style: { '--shade': (v / max).toFixed(3) },
                  title: `true ${name(i)}, predicted ${name(j)}: ${v}`,
                },
                v,
              ),
            ),
          ),
        ),
      ),
    ),
  );
}
