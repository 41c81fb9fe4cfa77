import {
  formatDuration,
  formatElapsed,
  isInteractive,
  PLAIN_INTERVAL_MS,
  Progress,
  progressLine,
} from '../../../cli/lib/progress';

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

/** A progress reporter on a recording stream with a clock the test moves. */
function reporter(interactive: boolean) {
  let now = 0;
  const written: string[] = [];
  const progress = new Progress({
    label: 'prepare',
    unit: 'devices',
    stream: { write: (text: string) => written.push(text) },
    interactive,
    now: () => now,
  });
  return { progress, written, at: (ms: number) => (now = ms) };
}

describe('Progress', () => {
  test('on a terminal: one line redrawn in place, with a bar, the rate and the time left', () => {
    const { progress, written, at } = reporter(true);
    at(2000);
    progress.update(500, { total: 2000, note: '1 rejected' });
    at(2050);
    progress.update(600, { total: 2000 });
    at(4000);
    progress.done(2000);
    expect(written).toEqual([
      '\r\x1b[Kprepare [######..................] 25% 500/2,000 devices, 250/s, 6 s left, 1 rejected',
      '\r\x1b[Kprepare: 2,000 devices in 4 s (500/s)\n',
    ]);
  });

  test('in CI or a pipe: a plain line at most every 10 s, from the fraction of the file read', () => {
    const { progress, written, at } = reporter(false);
    at(1000);
    progress.update(100, { fraction: 0.1 });
    at(1000 + PLAIN_INTERVAL_MS - 1);
    progress.update(900, { fraction: 0.5 });
    at(1000 + PLAIN_INTERVAL_MS);
    progress.update(1000, { fraction: 0.5 });
    progress.message('Another task is running');
    expect(written).toEqual([
      'prepare: 10% 100 devices, 100/s, 9 s left\n',
      'prepare: 50% 1,000 devices, 91/s, 11 s left\n',
      'Another task is running\n',
    ]);
  });

  test('a terminal is interactive unless CI says otherwise', () => {
    expect(isInteractive({ write: () => true, isTTY: true }, {})).toBe(true);
    expect(isInteractive({ write: () => true, isTTY: true }, { CI: 'true' })).toBe(false);
    expect(isInteractive({ write: () => true }, {})).toBe(false);
  });

  test.each([
    [42, '42 s'],
    [185, '3 min 05 s'],
    [3720, '1 h 02 min'],
  ])('formats %i seconds as %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });
});
