// Keeps BENCHMARKS.md as one section per benchmark, so running one benchmark replaces only its section.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { BenchReport } from './bench-types.ts';

const HEADER = `# Benchmarks

Produced by \`npm run bench\` (all) or \`npm run bench -- NAME\` (one section); each comparison is
measured side by side in one process run. Figures are from the machine named in each section.
`;

export function writeBenchmarks(path: string, reports: BenchReport[], machine: string, date = new Date()): void {
  let text = existsSync(path) ? readFileSync(path, 'utf8') : HEADER;
  for (const r of reports) {
    const section = `<!-- bench:${r.name} -->\n## ${r.name}\n\nCommand: \`npm run bench -- ${r.name}\` · ${date.toISOString().slice(0, 10)} · ${machine}\n\n${r.markdown.trim()}\n<!-- /bench:${r.name} -->`;
    const re = new RegExp(`<!-- bench:${r.name} -->[\\s\\S]*?<!-- /bench:${r.name} -->`);
    text = re.test(text) ? text.replace(re, section) : `${text.trimEnd()}\n\n${section}\n`;
  }
  writeFileSync(path, text.endsWith('\n') ? text : `${text}\n`);
}
