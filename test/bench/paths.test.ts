import * as path from 'node:path';
import { repositoryPath, ROOT } from '../../bench/paths';

describe('repositoryPath', () => {
  test('is the repository root the benchmarks stand in', () => {
    expect(path.join(ROOT, 'package.json')).toBe(path.resolve(__dirname, '../../package.json'));
  });

  test.each([
    [path.join(ROOT, 'fleet.config.ts'), 'fleet.config.ts'],
    [path.join(ROOT, 'examples', 'jitr', 'fleet.config.ts'), 'examples/jitr/fleet.config.ts'],
  ])('names %s as %s, without the machine-specific part', (file, expected) => {
    expect(repositoryPath(file)).toBe(expected);
  });

  test('resolves a relative path against the working directory first', () => {
    const root = path.resolve('/srv/checkout');
    expect(repositoryPath(path.join(root, 'bench', '..', 'fleet.config.ts'), root)).toBe('fleet.config.ts');
  });

  test('keeps a file outside the repository absolute: nothing shorter names it', () => {
    const root = path.resolve('/srv/checkout');
    expect(repositoryPath('/etc/fleet.config.ts', root)).toBe(path.resolve('/etc/fleet.config.ts'));
    expect(repositoryPath('/srv/checkout-other/x.ts', root)).toBe(path.resolve('/srv/checkout-other/x.ts'));
  });
});
