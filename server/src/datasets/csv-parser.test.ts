// The streaming RFC 4180 parser: quoting, line endings, line numbers, and chunking that cannot matter.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CsvParser } from './csv-parser.ts';
import type { CsvRecord } from './csv-parser.ts';
import { DatasetError } from './dataset-error.ts';

function parse(text: string | string[], max?: number): CsvRecord[] {
  const p = new CsvParser(max);
  const out: CsvRecord[] = [];
  for (const t of Array.isArray(text) ? text : [text]) p.push(t, (r) => out.push(r));
  p.end((r) => out.push(r));
  return out;
}

describe('CsvParser', () => {
  it('splits plain records on LF, CRLF and lone CR, with or without a final line break', () => {
    const expected = [
      ['a', 'b'],
      ['1', '2'],
      ['3', '4'],
    ];
    for (const text of ['a,b\n1,2\n3,4\n', 'a,b\r\n1,2\r\n3,4', 'a,b\r1,2\r3,4\r', 'a,b\n1,2\r\n3,4']) {
      expect(parse(text).map((r) => r.fields)).toEqual(expected);
    }
  });

  it('keeps empty fields, including a trailing one', () => {
    expect(parse('a,,c\n,\n1,2,\n').map((r) => r.fields)).toEqual([
      ['a', '', 'c'],
      ['', ''],
      ['1', '2', ''],
    ]);
    expect(parse('a,').map((r) => r.fields)).toEqual([['a', '']]);
  });

  it('reads quoted fields with commas, doubled quotes and line breaks (RFC 4180 §2.5-2.7)', () => {
    const rows = parse('"x,y","say ""hi""","two\r\nlines"\n"",""""\n');
    expect(rows.map((r) => r.fields)).toEqual([
      ['x,y', 'say "hi"', 'two\r\nlines'],
      ['', '"'],
    ]);
    expect(rows.every((r) => !r.malformed)).toBe(true);
  });

  it('numbers records by the physical line they start on', () => {
    const rows = parse('h1,h2\n1,"a\nb"\n\n2,3\r\n\r\n4,5');
    expect(rows.map((r) => r.line)).toEqual([1, 2, 5, 7]);
  });

  it('skips blank lines and counts them', () => {
    const p = new CsvParser();
    const rows: CsvRecord[] = [];
    p.push('\n\na,b\n\r\n1,2\n\n', (r) => rows.push(r));
    p.end((r) => rows.push(r));
    expect(rows.map((r) => r.fields)).toEqual([
      ['a', 'b'],
      ['1', '2'],
    ]);
    expect(p.blankLines).toBe(4);
  });

  it('flags stray quotes, text after a closing quote and an unterminated quote', () => {
    const rows = parse('a"b,c\n"x"y,z\n"open,1\n2,3\n');
    expect(rows[0]).toMatchObject({ line: 1, malformed: 'quote inside an unquoted field' });
    expect(rows[1]).toMatchObject({ line: 2, malformed: 'text after a closing quote' });
    expect(rows[2]).toMatchObject({ line: 3, malformed: 'unterminated quoted field' });
    expect(rows).toHaveLength(3);
  });

  it('refuses a record longer than the limit with CSV_ROW_TOO_LONG, before buffering the rest', () => {
    const p = new CsvParser(100);
    const rows: CsvRecord[] = [];
    p.push('a,b\n' + '1,'.repeat(40) + '\n', (r) => rows.push(r));
    expect(rows).toHaveLength(2);
    try {
      p.push('"' + 'x'.repeat(200), () => {});
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(DatasetError);
      expect(e).toMatchObject({ code: 'CSV_ROW_TOO_LONG', details: { line: 3 } });
    }
  });

  it('gives the same records however the text is cut into chunks', () => {
    const cell = fc.oneof(fc.constantFrom('', '1', '-2.5', 'x y', '"', ',', '\r\n', '\n', '\r', 'é'), fc.string({ maxLength: 4 }));
    const quoted = (s: string) => (/[",\r\n]/.test(s) || s === '' ? `"${s.replace(/"/g, '""')}"` : s);
    fc.assert(
      fc.property(
        fc.array(fc.array(cell, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 6 }),
        fc.constantFrom('\n', '\r\n'),
        fc.array(fc.nat(), { maxLength: 8 }),
        (rows, eol, cuts) => {
          const text = rows.map((r) => r.map(quoted).join(',')).join(eol) + eol;
          const whole = parse(text);
          expect(whole.map((r) => r.fields)).toEqual(rows);
          const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
          const pieces = [0, ...points].map((p, i, all) => text.slice(p, all[i + 1] ?? text.length));
          expect(parse(pieces)).toEqual(whole);
        },
      ),
      { numRuns: 300 },
    );
  });
});
