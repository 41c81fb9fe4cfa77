import { describeError, messageOf } from '../../core/errors';

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
