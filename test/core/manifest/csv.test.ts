import { CSV_RECORD_MAX_CHARACTERS, CsvParser, type CsvItem } from '../../../core/manifest/csv';

/** Parses `text` given in chunks of `size` characters (all at once by default). */
function parse(text: string, size = text.length || 1): CsvItem[] {
  const parser = new CsvParser();
  const items: CsvItem[] = [];
  for (let at = 0; at < text.length; at += size) items.push(...parser.push(text.slice(at, at + size)));
  items.push(...parser.end());
  return items;
}

const records = (items: CsvItem[]) =>
  items.map((item) => (item.kind === 'record' ? [item.line, item.fields] : [item.line, item.message]));

describe('CsvParser', () => {
  test('reads fields and records with the line each starts on, LF or CRLF, with or without a final newline', () => {
    for (const text of ['a,b\n1,2\n', 'a,b\r\n1,2\r\n', 'a,b\n1,2']) {
      expect(records(parse(text))).toEqual([
        [1, ['a', 'b']],
        [2, ['1', '2']],
      ]);
    }
  });

  test('quoted fields hold commas, doubled quotes and line breaks; line numbers count those breaks', () => {
    const text = 'serial,attributes\n"SN,1","say ""hi"""\n"SN2","two\r\nlines"\nSN3,x\n';
    expect(records(parse(text))).toEqual([
      [1, ['serial', 'attributes']],
      [2, ['SN,1', 'say "hi"']],
      [3, ['SN2', 'two\r\nlines']],
      [5, ['SN3', 'x']],
    ]);
  });

  test.each([1, 2, 3, 7])('gives the same records whatever the chunk size (%i)', (size) => {
    const text = '\ufeffa,"b\r\nc",""""\r\n\r\n1,,"x"\r\n';
    expect(records(parse(text, size))).toEqual(records(parse(text)));
    expect(records(parse(text))).toEqual([
      [1, ['a', 'b\r\nc', '"']],
      [4, ['1', '', 'x']],
    ]);
  });

  test('drops a byte order mark and skips blank lines, keeping line numbers', () => {
    expect(records(parse('\ufeffserial\n\nSN1\n\n'))).toEqual([
      [1, ['serial']],
      [3, ['SN1']],
    ]);
  });

  test('refuses a quote inside an unquoted field, for that record only', () => {
    expect(records(parse('a,b\nSN"1,x\nSN2,y\n'))).toEqual([
      [1, ['a', 'b']],
      [2, expect.stringContaining('a quote inside unquoted field 1')],
      [3, ['SN2', 'y']],
    ]);
  });

  test('refuses text after a closing quote, for that record only', () => {
    const items = parse('a,b\n"SN1"x,y\nSN2,z\n');
    expect(records(items)).toEqual([
      [1, ['a', 'b']],
      [2, expect.stringContaining('text after the closing quote of field 1')],
      [3, ['SN2', 'z']],
    ]);
    expect(items[1]).toMatchObject({ kind: 'error', fatal: false });
  });

  test('fails, fatally, on a quoted field never closed, naming the line it opens on', () => {
    const items = parse('a,b\nSN1,x\n"SN2,y\nSN3,z\n');
    expect(items.at(-1)).toEqual({
      kind: 'error',
      line: 3,
      message: 'a quoted field starting on this line is never closed: a closing quote is missing',
      fatal: true,
    });
  });

  test('fails, fatally, on a record longer than the bound, and reads nothing after it', () => {
    const parser = new CsvParser();
    const items = parser.push(`a\n"${'x'.repeat(CSV_RECORD_MAX_CHARACTERS + 10)}\nb\n`);
    expect(items.at(-1)).toMatchObject({ kind: 'error', line: 2, fatal: true });
    expect(parser.push('c\n')).toEqual([]);
    expect(parser.end()).toEqual([]);
  });
});
