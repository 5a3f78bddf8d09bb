// The int8 quantization report of a model version: float versus int8 side by side (size, accuracy,
// latency), top-1 agreement, output error, and the parity gate's verdict.
import { h } from 'preact';
import type { QuantizationReport } from '../api/types.ts';
import { bytes, num, pct } from '../format.ts';
import { StatusBadge } from './status-badge.ts';

const us = (v: number | null | undefined) =>
  v === null || v === undefined ? '–' : v >= 1000 ? `${(v / 1000).toFixed(2)} ms` : `${v.toFixed(0)} µs`;

export function QuantizationReportView({ report }: { report: Partial<QuantizationReport> | null }) {
  if (!report)
    return h(
      'p',
      { class: 'notice muted' },
      'Not quantized yet. Export to ONNX and quantize to int8 to see how the int8 model compares to its float parent.',
    );
  const p = report.parity;
  const g = report.gate;
  return h(
    'div',
    { class: 'quant' },
    h(
      'div',
      { class: 'row gap wrap' },
      g
        ? h(StatusBadge, {
            state: g.passed ? 'passed' : g.allowed ? 'warning' : 'failed',
            label: g.passed ? 'parity gate passed' : g.allowed ? 'gate failed, overridden' : 'parity gate failed',
          })
        : null,
      report.mode ? h('span', { class: 'chip' }, `${report.mode} quantization`) : null,
      report.scheme
        ? h('span', { class: 'muted small' }, `weights ${report.scheme.weights}, activations ${report.scheme.activations}`)
        : null,
    ),
    p
      ? h(
          'table',
          { class: 'table compact' },
          h('caption', { class: 'sr-only' }, 'Float versus int8'),
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              h('th', { scope: 'col' }, ''),
              h('th', { scope: 'col', class: 'num' }, 'float'),
              h('th', { scope: 'col', class: 'num' }, 'int8'),
              h('th', { scope: 'col', class: 'num' }, 'change'),
            ),
          ),
          h(
            'tbody',
            null,
            h(
              'tr',
              null,
              h('th', { scope: 'row' }, 'Size'),
              h('td', { class: 'num' }, bytes(p.float.bytes)),
              h('td', { class: 'num' }, bytes(p.int8.bytes)),
              h('td', { class: 'num' }, `×${num(p.sizeRatio, 2)}`),
            ),
            h(
              'tr',
              null,
              h('th', { scope: 'row' }, 'Accuracy'),
              h('td', { class: 'num' }, pct(p.float.accuracy, 2)),
              h('td', { class: 'num' }, pct(p.int8.accuracy, 2)),
              h(
                'td',
                { class: 'num' },
                p.accuracyDropPoints === null
                  ? '–'
                  : `${p.accuracyDropPoints > 0 ? '−' : '+'}${Math.abs(p.accuracyDropPoints).toFixed(2)} pt`,
              ),
            ),
            h(
              'tr',
              null,
              h('th', { scope: 'row' }, 'Latency, batch 1'),
              h('td', { class: 'num' }, us(p.float.latencyUs?.batch1)),
              h('td', { class: 'num' }, us(p.int8.latencyUs?.batch1)),
              h(
                'td',
                { class: 'num' },
                p.float.latencyUs && p.int8.latencyUs ? `×${num(p.int8.latencyUs.batch1 / p.float.latencyUs.batch1, 2)}` : '–',
              ),
            ),
            h(
              'tr',
              null,
              h('th', { scope: 'row' }, `Latency, batch ${p.batchSize}`),
              h('td', { class: 'num' }, us(p.float.latencyUs?.batchN)),
              h('td', { class: 'num' }, us(p.int8.latencyUs?.batchN)),
              h(
                'td',
                { class: 'num' },
                p.float.latencyUs && p.int8.latencyUs ? `×${num(p.int8.latencyUs.batchN / p.float.latencyUs.batchN, 2)}` : '–',
              ),
            ),
          ),
        )
      : null,
    p
      ? h(
          'dl',
          { class: 'kv' },
          h('dt', null, 'Top-1 agreement'),
          h('dd', null, `${pct(p.top1Agreement, 2)} of ${num(p.samples)} samples`),
          h('dt', null, 'Output difference'),
          h('dd', null, `mean ${num(p.meanAbsDiff, 4)}, max ${num(p.maxAbsDiff, 4)} (${p.outputName})`),
          h('dt', null, 'Runtime'),
          h('dd', null, p.runtime),
        )
      : null,
    g && g.failures.length
      ? h(
          'ul',
          { class: 'error-list' },
          g.failures.map((f) => h('li', { key: f }, f)),
        )
      : null,
    report.modeReason ? h('p', { class: 'small muted' }, report.modeReason) : null,
    report.floatOps?.length ? h('p', { class: 'small muted' }, `Left in float: ${report.floatOps.join(', ')}`) : null,
  );
}
