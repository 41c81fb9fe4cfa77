/**
 * An incremental CSV parser (RFC 4180) for device manifests: text goes in chunk by chunk, records come out with
 * the line each starts on, so a file of any length is read in bounded memory and every problem names its line.
 *
 * What it accepts: fields separated by `,`, records by CRLF or LF; a field in double quotes may hold commas, line
 * breaks and doubled quotes (`""` is one `"`); a byte order mark at the start is dropped; blank lines are skipped.
 * What it refuses, each as an error for that record only (the next record is read normally): a quote inside an
 * unquoted field, and text after a closing quote. A quoted field still open at the end of the input, or a record
 * longer than {@link CSV_RECORD_MAX_CHARACTERS}, is fatal: past a missing closing quote no record boundary can be
 * trusted.
 *
 * @see https://www.rfc-editor.org/rfc/rfc4180
 */

/** A record longer than this is refused as fatal: it almost always means a closing quote is missing. */
export const CSV_RECORD_MAX_CHARACTERS = 128 * 1024;

/** One record: its fields, and the 1-based line of the input it starts on. */
export interface CsvRecord {
  readonly kind: 'record';
  readonly line: number;
  readonly fields: readonly string[];
}

/** A record that could not be read. `fatal`: nothing after it can be read either. */
export interface CsvError {
  readonly kind: 'error';
  readonly line: number;
  readonly message: string;
  readonly fatal: boolean;
}

/** What the parser gives for each record. */
export type CsvItem = CsvRecord | CsvError;

/**
 * Parses CSV text given in chunks. {@link push} returns the records completed by a chunk; {@link end} returns the
 * last one. After a fatal error both return nothing more.
 *
 * @example
 * const parser = new CsvParser();
 * for await (const chunk of stream) for (const item of parser.push(chunk)) handle(item);
 * for (const item of parser.end()) handle(item);
 */
export class CsvParser {
  private fields: string[] = [];
  private field = '';
  /** The current field started with a quote and its closing quote has not been seen yet. */
  private quoted = false;
  /** A quote was seen inside a quoted field: either the closing quote or the first of a doubled one. */
  private quoteSeen = false;
  /** The current field was quoted and is closed: only a separator may follow. */
  private closed = false;
  /** A problem was found in the current record: skip to its end, then report it. */
  private problem: string | undefined;
  private line = 1;
  private recordLine = 1;
  private recordLength = 0;
  private lastWasCr = false;
  private crInQuotes = false;
  private started = false;
  private failed = false;

  /** Parses `chunk`; returns the records (and record errors) it completes. */
  push(chunk: string): CsvItem[] {
    const out: CsvItem[] = [];
    if (this.failed) return out;
    let text = chunk;
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    for (let index = 0; index < text.length; index++) {
      const ch = text[index]!;
      if (this.lastWasCr) {
        this.lastWasCr = false;
        // CRLF: the record already ended at the CR.
        if (ch === '\n' && !this.quoted) continue;
      }
      if (++this.recordLength > CSV_RECORD_MAX_CHARACTERS) {
        this.failed = true;
        out.push({
          kind: 'error',
          line: this.recordLine,
          message:
            `the record starting here is longer than ${CSV_RECORD_MAX_CHARACTERS} characters: a closing quote is ` +
            'probably missing; nothing after it was read',
          fatal: true,
        });
        return out;
      }
      if (this.quoted) {
        if (this.quoteSeen) {
          this.quoteSeen = false;
          if (ch === '"') {
            this.field += '"';
            continue;
          }
          // The quote before this character closed the field.
          this.quoted = false;
          this.closed = true;
        } else if (ch === '"') {
          this.quoteSeen = true;
          continue;
        } else {
          // Line breaks inside quotes are part of the field, and still count for line numbers (CRLF once).
          if (ch === '\r' || (ch === '\n' && !this.crInQuotes)) this.line++;
          this.crInQuotes = ch === '\r';
          this.field += ch;
          continue;
        }
      }
      if (ch === ',') {
        this.endField();
      } else if (ch === '\n' || ch === '\r') {
        this.lastWasCr = ch === '\r';
        const item = this.endRecord();
        if (item) out.push(item);
        this.line++;
        this.recordLine = this.line;
        this.recordLength = 0;
      } else if (this.closed) {
        this.problem ??= `text after the closing quote of field ${this.fields.length + 1}: quote the whole field`;
      } else if (ch === '"') {
        if (this.field === '') this.quoted = true;
        else {
          this.problem ??=
            `a quote inside unquoted field ${this.fields.length + 1}: put the whole field in quotes and double ` +
            'each quote inside it ("")';
        }
      } else {
        this.field += ch;
      }
    }
    return out;
  }

  /** Ends the input; returns the last record, or the error of a quoted field left open. */
  end(): CsvItem[] {
    if (this.failed) return [];
    this.failed = true;
    if (this.quoted && !this.quoteSeen) {
      return [
        {
          kind: 'error',
          line: this.recordLine,
          message: 'a quoted field starting on this line is never closed: a closing quote is missing',
          fatal: true,
        },
      ];
    }
    if (this.quoteSeen) {
      this.quoted = false;
      this.closed = true;
    }
    const item = this.endRecord();
    return item ? [item] : [];
  }

  private endField(): void {
    if (this.quoteSeen) this.quoteSeen = false;
    this.fields.push(this.field);
    this.field = '';
    this.quoted = false;
    this.closed = false;
  }

  private endRecord(): CsvItem | undefined {
    const blank = this.fields.length === 0 && this.field === '' && !this.closed && this.problem === undefined;
    this.endField();
    const fields = this.fields;
    const problem = this.problem;
    this.fields = [];
    this.problem = undefined;
    if (blank) return undefined;
    if (problem !== undefined)
      return { kind: 'error', line: this.recordLine, message: problem, fatal: false };
    return { kind: 'record', line: this.recordLine, fields };
  }
}
