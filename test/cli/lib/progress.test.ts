import { formatElapsed, progressLine } from '../../../cli/lib/progress';

function stream(isTTY: boolean) {
  const written: string[] = [];
  return { written, stream: { isTTY, write: (text: string) => written.push(text) } };
}

describe('progressLine', () => {
  test('on a terminal: one line rewritten in place, ended with a newline', () => {
    const { written, stream: s } = stream(true);
    const line = progressLine(s);
    line.update('signing: InProgress');
    line.update('signing: InProgress');
    line.update('signing: Succeeded');
    line.done();
    expect(written).toEqual(['\r\x1b[2Ksigning: InProgress', '\r\x1b[2Ksigning: Succeeded', '\n']);
  });

  test('in CI or a pipe: a plain line per change, no control characters', () => {
    const { written, stream: s } = stream(false);
    const line = progressLine(s);
    line.update('a');
    line.update('a');
    line.update('b');
    line.done();
    expect(written).toEqual(['a\n', 'b\n']);
  });

  test('done without an update writes nothing', () => {
    const { written, stream: s } = stream(true);
    progressLine(s).done();
    expect(written).toEqual([]);
  });
});

test.each([
  [0, '0 s'],
  [42_400, '42 s'],
  [65_000, '1 min 05 s'],
  [3_600_000, '60 min 00 s'],
])('formatElapsed(%d) is %s', (ms, text) => {
  expect(formatElapsed(ms)).toBe(text);
});
