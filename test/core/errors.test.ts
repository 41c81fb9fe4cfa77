import * as path from 'node:path';
import { buildSync } from 'esbuild';
import { describeError, FleetkitError, messageOf, nameOf } from '../../core/errors';

describe('messageOf', () => {
  test('reads the message of an Error', () => {
    expect(messageOf(new TypeError('bad input'))).toBe('bad input');
  });

  test('reads the message of an error-shaped object from another realm', () => {
    expect(messageOf({ name: 'SystemError', message: 'from elsewhere' })).toBe('from elsewhere');
  });

  test.each([
    ['a string', 'a string'],
    [42, '42'],
    [undefined, 'undefined'],
    [null, 'null'],
  ])('turns %p into text', (thrown, text) => {
    expect(messageOf(thrown)).toBe(text);
  });
});

describe('nameOf', () => {
  test.each([
    [Object.assign(new Error('x'), { name: 'ThrottlingException' }), 'ThrottlingException'],
    [{ name: 'SystemError' }, 'SystemError'],
    [{ name: 42 }, undefined],
    ['thrown text', undefined],
    [null, undefined],
    [undefined, undefined],
  ])('reads the name of %p as %p', (thrown, name) => {
    expect(nameOf(thrown)).toBe(name);
  });
});

describe('describeError', () => {
  const named = (name: string, message: string) => Object.assign(new Error(message), { name });

  test.each([
    [named('ThrottlingException', 'Rate exceeded'), 'ThrottlingException: Rate exceeded'],
    [new Error('plain'), 'plain'],
    [named('AccessDeniedException', 'AccessDeniedException: no'), 'AccessDeniedException: no'],
    [named('ServiceUnavailable', ''), 'ServiceUnavailable'],
    [named('', 'no name'), 'no name'],
    [named('InternalFailure', 'line one\n  line two'), 'InternalFailure: line one line two'],
    ['thrown text', 'thrown text'],
  ])('describes %p as %p', (error, text) => {
    expect(describeError(error)).toBe(text);
  });
});

describe('FleetkitError', () => {
  class ExampleFailureError extends FleetkitError {
    override readonly name = 'ExampleFailureError';
  }

  test('gives a subclass its own name, keeps the cause, and shows both where errors are shown', () => {
    const cause = new Error('socket hang up');
    const error = new ExampleFailureError('could not reach the table', { cause });

    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ExampleFailureError');
    expect(error.cause).toBe(cause);
    expect(String(error)).toBe('ExampleFailureError: could not reach the table');
    expect(error.stack?.split('\n')[0]).toBe('ExampleFailureError: could not reach the table');
    expect(describeError(error)).toBe('ExampleFailureError: could not reach the table');
  });

  test('keeps the name in a minified bundle, where class names are renamed (as in the Lambda bundles)', () => {
    const [bundle] = buildSync({
      stdin: {
        contents: `import { FleetkitError } from './core/errors';
          class LongDescriptiveNameError extends FleetkitError {
            override readonly name = 'LongDescriptiveNameError';
          }
          export const error = new LongDescriptiveNameError('m');
          export const className = LongDescriptiveNameError.name;`,
        resolveDir: path.join(__dirname, '../..'),
        loader: 'ts',
      },
      bundle: true,
      minify: true,
      format: 'cjs',
      platform: 'node',
      write: false,
    }).outputFiles;
    const exported = { exports: {} as { error?: Error; className?: string } };
    new Function('module', 'exports', bundle!.text)(exported, exported.exports);

    // The class itself is renamed, so a base class reading `new.target.name` would log the minified name.
    expect(exported.exports.className).not.toBe('LongDescriptiveNameError');
    expect(exported.exports.error).toBeInstanceOf(Error);
    expect(exported.exports.error?.name).toBe('LongDescriptiveNameError');
  });
});
