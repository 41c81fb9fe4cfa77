import { editDistance } from '../../core/text';

describe('editDistance', () => {
  test.each([
    ['', '', 0],
    ['abc', '', 3],
    ['', 'abc', 3],
    ['thingName', 'thingName', 0],
    ['thingname', 'thingName', 1],
    ['thingNmae', 'thingName', 2],
    ['kitten', 'sitting', 3],
    ['attributes', 'atributes', 1],
  ])('between "%s" and "%s" is %i', (a, b, distance) => {
    expect(editDistance(a, b)).toBe(distance);
    expect(editDistance(b, a)).toBe(distance);
  });
});
