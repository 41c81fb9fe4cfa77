import { findCatastrophicBacktracking } from '../../../core/onboarding/regex-safety';

describe('findCatastrophicBacktracking', () => {
  test.each([
    ['(a+)+$', '(a+)+'],
    ['^(a+)+$', '(a+)+'],
    ['(a*)*', '(a*)*'],
    ['(\\w+\\s?)*$', '(\\w+\\s?)*'],
    ['(a|aa)+', '(a|aa)+'],
    ['(?:a|ab)*c', '(?:a|ab)*'],
    ['(a{1,3}){2,}', '(a{1,3}){2,}'],
    ['((ab)*c)+', '((ab)*c)+'],
    ['((a+))+', '((a+))+'],
    ['(a+)+?', '(a+)+?'],
    ['^(?<name>[a-z]+)*$', '(?<name>[a-z]+)*'],
    ['(x(a|b))+', '(x(a|b))+'],
  ])('finds %s', (source, found) => {
    expect(findCatastrophicBacktracking(source)).toBe(found);
  });

  test.each([
    '^device:([a-z0-9-]+)\\.',
    '^(sensor-\\d+)$',
    '(ab)+',
    '(?:ab)+c',
    '(a+)',
    '(a+)?',
    '(a+){1}',
    '[a+]+',
    '[(a+)]+',
    '\\(a+\\)+',
    '(a)(b)+x',
    '^([A-Z]{2})-(\\d{4})$',
    '\\d+\\d+x',
  ])('lets %s through', (source) => {
    expect(findCatastrophicBacktracking(source)).toBeUndefined();
  });
});
