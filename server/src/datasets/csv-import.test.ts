// CSV import against a real FileBlobStore: cleaning, the report, digests, and refusals that leave nothing.
import { createReadStream, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeDataset } from './canonical-format.ts';
import { importCsv } from './csv-import.ts';
import type { ImportCsvOptions } from './csv-import.ts';
import { DatasetError } from './dataset-error.ts';
import { byteChunks, failingAfter, filesUnder, tempBlobs } from './dataset-test-kit.ts';
import type { CsvSource } from './text-chunks.ts';

let kit: ReturnType<typeof tempBlobs>;
beforeEach(() => {
  kit = tempBlobs();
});
afterEach(() => kit.cleanup());

const IRIS = 'sepal,petal,y\n5.1,1.4,setosa\n7.0,4.7,versicolor\n6.3,6.0,virginica\n4.9,1.4,setosa\n';

function run(source: CsvSource | string, opts: Partial<ImportCsvOptions> = {}) {
  const src = typeof source === 'string' ? byteChunks(source) : source;
  return importCsv(src, { label: 'y', blobs: kit.blobs, ...opts });
}

async function failure(source: CsvSource | string, opts: Partial<ImportCsvOptions> = {}): Promise<DatasetError> {
  const before = filesUnder(kit.dir);
  const e = await run(source, opts).then(
    () => expect.unreachable('import should have failed'),
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(DatasetError);
  expect(filesUnder(kit.dir)).toEqual(before); // no new blob, no temp file: the failed import left nothing
  return e as DatasetError;
}

async function stored(digest: string) {
  const bytes = await kit.blobs.get(digest);
  expect(bytes).not.toBeNull();
  return decodeDataset(bytes!);
}

describe('importCsv: happy path', () => {
  it('stores a canonical version named by its sha256, and reports what it read', async () => {
    const r = await run(IRIS);
    expect(r.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(r.meta).toEqual({
      featureNames: ['sepal', 'petal'],
      featureShape: [2],
      classes: ['setosa', 'versicolor', 'virginica'],
      rows: 4,
      dtype: 'float32',
    });
    expect(r.report).toEqual({
      rowsRead: 4,
      rowsKept: 4,
      duplicatesDropped: 0,
      rowsWithMissing: 0,
      missingValues: {},
      constantColumns: [],
      labelBalance: { setosa: 2, versicolor: 1, virginica: 1 },
      badRows: [],
      badRowCount: 0,
      blankLines: 0,
      scaleWarnings: [],
    });
    expect(filesUnder(kit.dir)).toEqual([`${r.digest.slice(0, 2)}/${r.digest}`]);
    expect(r.bytes).toBe((await kit.blobs.stat(r.digest))!.bytes);
    const { data } = await stored(r.digest);
    expect(Array.from(data.x)).toEqual([5.1, 1.4, 7.0, 4.7, 6.3, 6.0, 4.9, 1.4].map(Math.fround));
    expect(Array.from(data.y)).toEqual([0, 1, 2, 0]);
  });

  it('reads a real file through a Node stream, and the label may be any column', async () => {
    const file = join(kit.dir, 'iris.csv');
    writeFileSync(file, 'y,sepal,petal\nsetosa,5.1,1.4\nvirginica,6.3,6.0\n');
    const r = await run(createReadStream(file));
    expect(r.meta.featureNames).toEqual(['sepal', 'petal']);
    expect(Array.from((await stored(r.digest)).data.x)).toEqual([5.1, 1.4, 6.3, 6.0].map(Math.fround));
  });

  it('sorts numeric labels numerically and keeps them verbatim', async () => {
    const r = await run('x,digit\n1,10\n2,9\n3,10\n4,-1\n5,2\n', { label: 'digit' });
    expect(r.meta.classes).toEqual(['-1', '2', '9', '10']);
    expect(r.report.labelBalance).toEqual({ '-1': 1, 2: 1, 9: 1, 10: 2 });
    expect(Array.from((await stored(r.digest)).data.y)).toEqual([3, 2, 3, 0, 1]);
  });

  it('gives the same digest for the same rows however they are written [FDS1-9]', async () => {
    const plain = await run(IRIS);
    const variants = [
      IRIS,
      '\uFEFF' + IRIS.replace(/\n/g, '\r\n'),
      '"sepal","petal"," y"\n"5.1",1.4,"setosa"\n7.00,4.70,versicolor\r6.3, 6e0 ,"virginica"\n\n4.90,+1.4,setosa',
      'species,sepal,petal\nsetosa,5.1,1.4\nversicolor,7.0,4.7\nvirginica,6.3,6.0\nsetosa,4.9,1.4\n',
    ];
    for (const text of variants) {
      const label = text.startsWith('species') ? 'species' : 'y';
      for (const size of [1, 3, 64 * 1024]) expect((await run(byteChunks(text, size), { label })).digest).toBe(plain.digest);
    }
    expect(filesUnder(kit.dir)).toHaveLength(1);
  });

  it('joins UTF-8 characters split across chunks', async () => {
    const r = await run(byteChunks('x,espèce\n1,é\n2,日本\n', 1), { label: 'espèce' });
    expect(r.meta.classes).toEqual(['é', '日本']);
  });

  it('drops exact duplicates (same float32 values and label), keeping the first', async () => {
    const r = await run('a,b,y\n1,2,p\n1.0,2.00,p\n1,2,q\n1,2,p\n-0,0,p\n0,0,p\n');
    expect(r.report).toMatchObject({ rowsRead: 6, rowsKept: 3, duplicatesDropped: 3 });
    expect(Array.from((await stored(r.digest)).data.x)).toEqual([1, 2, 1, 2, 0, 0]);
  });

  it('drops rows with missing values and counts them per column', async () => {
    const r = await run('a,b,y\n1,,p\nNA,2,p\n1,2,\n,n/a,NULL\n3,4,p\n5,6,q\n');
    expect(r.report).toMatchObject({ rowsRead: 6, rowsKept: 2, rowsWithMissing: 4, missingValues: { a: 2, b: 2, y: 2 } });
  });

  it('reports constant columns and keeps them', async () => {
    const r = await run('a,b,c,y\n1,7,0,p\n2,7,0,q\n3,7,-0,p\n');
    expect(r.report.constantColumns).toEqual(['b', 'c']);
    expect(r.meta.featureShape).toEqual([3]);
  });

  it('rejects ragged, non-numeric and badly quoted rows with their line numbers, and keeps the rest', async () => {
    const text = 'a,b,y\n1,2,p\n1,2\n"3\n4",5,p\n1,2,p,extra\nx,2,p\n0x10,2,p\n1e39,2,p\n9,Infinity,q\n1"2,3,p\n7,8,q\n';
    const r = await run(text, { maxBadRows: 10 });
    expect(r.report.badRows).toEqual([
      { line: 3, code: 'CSV_RAGGED', reason: 'expected 3 fields, found 2' },
      { line: 4, code: 'CSV_NON_NUMERIC', reason: 'column "a": "3\\n4" is not a number' },
      { line: 6, code: 'CSV_RAGGED', reason: 'expected 3 fields, found 4' },
      { line: 7, code: 'CSV_NON_NUMERIC', reason: 'column "a": "x" is not a number' },
      { line: 8, code: 'CSV_NON_NUMERIC', reason: 'column "a": "0x10" is not a number' },
      { line: 9, code: 'CSV_NON_NUMERIC', reason: 'column "a": "1e39" is outside float32 range' },
      { line: 10, code: 'CSV_NON_NUMERIC', reason: 'column "b": "Infinity" is not a number' },
      { line: 11, code: 'CSV_BAD_QUOTE', reason: 'quote inside an unquoted field' },
    ]);
    expect(r.report).toMatchObject({ rowsRead: 10, rowsKept: 2, badRowCount: 8 });
  });

  it('lists the first 100 bad rows and counts them all', async () => {
    const text = 'a,y\n' + Array.from({ length: 150 }, (_, i) => (i % 3 === 0 ? `${i},p\n` : 'bad,p\n')).join('');
    const r = await run(text, { maxBadRows: 1000 });
    expect(r.report.badRowCount).toBe(100);
    const r2 = await run('a,y\n1,p\n' + 'z,p\n'.repeat(120), { maxBadRows: 200 });
    expect(r2.report.badRows).toHaveLength(100);
    expect(r2.report.badRowCount).toBe(120);
    expect(r2.report.badRows[99]!.line).toBe(102);
  });
});

describe('importCsv: refusals leave nothing behind', () => {
  it('CSV_EMPTY for an empty file, a lone BOM or blank lines only', async () => {
    for (const text of ['', '\uFEFF', '\n\r\n\n']) expect((await failure(text)).code).toBe('CSV_EMPTY');
    expect((await failure(byteChunks(new Uint8Array(0)))).code).toBe('CSV_EMPTY');
  });

  it('CSV_NO_ROWS for a header only, and when no row survives cleaning', async () => {
    expect((await failure('a,b,y\n')).code).toBe('CSV_NO_ROWS');
    expect((await failure('a,b,y')).code).toBe('CSV_NO_ROWS');
    const e = await failure('a,b,y\n1,,p\nx,1,p\n');
    expect(e.code).toBe('CSV_NO_ROWS');
    expect(e.details).toMatchObject({ report: { rowsRead: 2, rowsWithMissing: 1, badRowCount: 1 } });
  });

  it('CSV_LABEL_MISSING when the label column is not in the header', async () => {
    const e = await failure(IRIS, { label: 'class' });
    expect(e).toMatchObject({ code: 'CSV_LABEL_MISSING', details: { label: 'class', columns: ['sepal', 'petal', 'y'] } });
  });

  it('counts labels and columns named __proto__ or constructor like any other', async () => {
    const r = await run('__proto__,b,y\n1,2,__proto__\n3,4,constructor\n5,6,__proto__\n7,8,toString\n,9,toString\n');
    expect(Object.entries(r.report.labelBalance).sort()).toEqual([
      ['__proto__', 2],
      ['constructor', 1],
      ['toString', 1],
    ]);
    expect(Object.entries(r.report.missingValues)).toEqual([['__proto__', 1]]);
  });

  it('CSV_TOO_MANY_COLUMNS for a 50,000-column header, at once and with the limit named', async () => {
    const header = `${Array.from({ length: 50_000 }, (_, i) => `c${i}`).join(',')},y`;
    const t0 = performance.now();
    const e = await failure(`${header}\n`);
    expect(e.code).toBe('CSV_TOO_MANY_COLUMNS');
    expect(e.message).toContain('10000');
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  it('finds a repeated name in a wide header in one pass, and keeps the error small', async () => {
    const header = `${Array.from({ length: 9_999 }, (_, i) => `c${i}`).join(',')},c5`;
    const e = await failure(`${header}\n`, { label: 'c0' });
    expect(e.code).toBe('CSV_BAD_HEADER');
    expect(e.message).toContain('"c5" twice');
    expect(JSON.stringify(e.details).length).toBeLessThan(1000);
  });

  it('CSV_BAD_HEADER for blank or repeated column names or a broken header; CSV_NO_FEATURES for a label alone', async () => {
    expect((await failure('a,,y\n1,2,p\n')).code).toBe('CSV_BAD_HEADER');
    expect((await failure('a,a,y\n1,2,p\n')).code).toBe('CSV_BAD_HEADER');
    expect((await failure('a,"b,y\n1,2,p\n')).code).toBe('CSV_BAD_HEADER');
    expect((await failure('y\np\n')).code).toBe('CSV_NO_FEATURES');
  });

  it('CSV_TOO_MANY_BAD_ROWS past maxBadRows, listing the first bad lines', async () => {
    const text = 'a,y\n1,p\n' + 'oops,p\n'.repeat(5) + '2,q\n';
    expect((await run(text, { maxBadRows: 5 })).report.badRowCount).toBe(5);
    const e = await failure(text, { maxBadRows: 4 });
    expect(e.code).toBe('CSV_TOO_MANY_BAD_ROWS');
    expect(e.message).toContain('lines 3, 4, 5, 6, 7');
    expect((e.details as { badRows: unknown[] }).badRows).toHaveLength(5);
    expect((await failure('a,y\n1,p\n1,2,p\n', { maxBadRows: 0 })).code).toBe('CSV_TOO_MANY_BAD_ROWS');
  });

  it('fails fast on a file that is mostly garbage, with the default limit of 1000', async () => {
    const e = await failure('a,y\n' + 'x,y\n'.repeat(5000));
    expect(e.code).toBe('CSV_TOO_MANY_BAD_ROWS');
    expect(e.details).toMatchObject({ maxBadRows: 1000 });
  });

  it('CSV_ROW_TOO_LONG for a record over maxRowBytes, such as an unterminated quote', async () => {
    expect((await failure('a,y\n1,p\n"' + 'x'.repeat(5000) + '\n1,p\n'.repeat(100), { maxRowBytes: 1000 })).code).toBe('CSV_ROW_TOO_LONG');
  });

  it('CSV_BAD_ENCODING for bytes that are not UTF-8', async () => {
    const bytes = new Uint8Array([...new TextEncoder().encode('a,y\n1,'), 0xff, 0xfe, 10]);
    expect((await failure(byteChunks(bytes, 3))).code).toBe('CSV_BAD_ENCODING');
  });

  it('CSV_TOO_MANY_CLASSES when the label column is unique per row', async () => {
    const text = 'a,id\n' + Array.from({ length: 50 }, (_, i) => `${i},row${i}\n`).join('');
    expect((await failure(text, { label: 'id', maxClasses: 20 })).code).toBe('CSV_TOO_MANY_CLASSES');
  });

  it('passes on the source error when an upload breaks off, and removes the part files', async () => {
    const cut = new Error('connection reset');
    const e = await run(failingAfter(IRIS + '1,2,p\n'.repeat(1000), cut)).catch((err: unknown) => err);
    expect(e).toBe(cut);
    expect(filesUnder(kit.dir)).toEqual([]);
  });
});
