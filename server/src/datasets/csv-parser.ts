// A streaming RFC 4180 parser: text goes in chunk by chunk, whole records come out, and nothing but the
// record in progress is kept. Quoted fields may hold commas, quotes ("" is one quote) and line breaks;
// records end at CRLF, LF or a lone CR.
import { DatasetError } from './dataset-error.ts';

export interface CsvRecord {
  /** 1-based physical line on which the record starts (a quoted line break moves later records down). */
  line: number;
  fields: string[];
  /** Why the record breaks RFC 4180 (stray or unterminated quote); its fields are then best effort. */
  malformed?: string;
}

/** Default longest record, in characters of decoded text (bytes, for ASCII): 1 MiB. */
export const DEFAULT_MAX_RECORD_CHARS = 1 << 20;

const COMMA = 44;
const QUOTE = 34;
const CR = 13;
const LF = 10;

// Parser states: before a field, inside an unquoted field, inside quotes, just after a quote in quotes.
const FIELD_START = 0;
const UNQUOTED = 1;
const QUOTED = 2;
const QUOTE_IN_QUOTED = 3;

export class CsvParser {
  private state = FIELD_START as number;
  private fields: string[] = [];
  private field = '';
  private malformed: string | undefined;
  private line = 1;
  private recordLine = 1;
  private recordChars = 0;
  private afterCR = false;
  /** Blank lines skipped so far (they are not records). */
  blankLines = 0;

  /** `maxRecordChars` bounds memory: a longer record throws `CSV_ROW_TOO_LONG` (default 1 MiB). */
  constructor(private readonly maxRecordChars = DEFAULT_MAX_RECORD_CHARS) {}

  /**
   * Parses the next piece of text, handing each completed record to `onRecord` at once (so a record is
   * garbage before the next one is built). An error thrown by `onRecord` ends the parse.
   */
  push(text: string, onRecord: (record: CsvRecord) => void): void {
    const out = onRecord;
    const len = text.length;
    let seg = 0; // start of the current field's unsaved characters in `text`
    for (let i = 0; i < len; i++) {
      const c = text.charCodeAt(i);
      if (this.afterCR) {
        this.afterCR = false;
        if (c === LF) continue; // the LF of a CRLF: the CR already counted the line and ended any record
      }
      if (this.state === UNQUOTED || this.state === QUOTED) {
        // Inside a field most characters change nothing: skip the run of them in one tight loop.
        const quoted = this.state === QUOTED;
        let j = i;
        for (let d = c; !(d === QUOTE || d === CR || d === LF || (d === COMMA && !quoted)); d = text.charCodeAt(j)) {
          if (++j === len) break;
        }
        if (j > i) {
          this.recordChars += j - i;
          if (this.recordChars > this.maxRecordChars) this.tooLong();
          i = j - 1;
          continue;
        }
      }
      if (c === CR || c === LF) {
        this.line++;
        this.afterCR = c === CR;
      }
      if (++this.recordChars > this.maxRecordChars) this.tooLong();
      switch (this.state) {
        case FIELD_START:
          if (c === QUOTE) {
            this.state = QUOTED;
            seg = i + 1;
          } else if (c === COMMA) {
            this.fields.push('');
          } else if (c === CR || c === LF) {
            if (this.fields.length > 0) this.fields.push(''); // "a,\n": the empty last field
            this.endRecord(out);
          } else {
            this.state = UNQUOTED;
            seg = i;
          }
          break;
        case UNQUOTED:
          if (c === COMMA || c === CR || c === LF) {
            this.fields.push(this.field + text.slice(seg, i));
            this.field = '';
            this.state = FIELD_START;
            if (c !== COMMA) this.endRecord(out);
            seg = i + 1;
          } else if (c === QUOTE) {
            this.malformed ??= 'quote inside an unquoted field';
          }
          break;
        case QUOTED:
          if (c === QUOTE) {
            this.field += text.slice(seg, i);
            this.state = QUOTE_IN_QUOTED;
          }
          break;
        case QUOTE_IN_QUOTED:
          if (c === QUOTE) {
            this.field += '"';
            this.state = QUOTED;
            seg = i + 1;
          } else if (c === COMMA || c === CR || c === LF) {
            this.fields.push(this.field);
            this.field = '';
            this.state = FIELD_START;
            if (c !== COMMA) this.endRecord(out);
            seg = i + 1;
          } else {
            this.malformed ??= 'text after a closing quote';
            this.state = UNQUOTED;
            seg = i;
          }
          break;
      }
    }
    if (this.state === UNQUOTED || this.state === QUOTED) this.field += text.slice(seg);
  }

  /** Ends the input; hands over the last record when the text did not end with a line break. */
  end(onRecord: (record: CsvRecord) => void): void {
    const out = onRecord;
    if (this.state === QUOTED) this.malformed ??= 'unterminated quoted field';
    if (this.state !== FIELD_START || this.fields.length > 0) {
      this.fields.push(this.field);
      this.field = '';
      this.emit(out);
    }
    this.state = FIELD_START;
  }

  // Called at a line break outside quotes, after the last field has been pushed.
  private endRecord(out: (record: CsvRecord) => void): void {
    if (this.fields.length === 0) {
      this.blankLines++;
      this.recordLine = this.line;
      this.recordChars = 0;
      return;
    }
    this.emit(out);
  }

  private emit(out: (record: CsvRecord) => void): void {
    const record: CsvRecord = { line: this.recordLine, fields: this.fields };
    if (this.malformed) record.malformed = this.malformed;
    this.fields = [];
    this.malformed = undefined;
    this.recordLine = this.line;
    this.recordChars = 0;
    out(record);
  }

  private tooLong(): never {
    throw new DatasetError(
      'CSV_ROW_TOO_LONG',
      `the record starting on line ${this.recordLine} is longer than ${this.maxRecordChars} characters (an unterminated quote, or not a CSV file?)`,
      {
        line: this.recordLine,
        maxRecordChars: this.maxRecordChars,
      },
    );
  }
}
