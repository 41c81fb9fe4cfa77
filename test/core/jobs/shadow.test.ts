import { classicShadowUpdate, packageShadowUpdate, shadowErrorSchema } from '../../../core/jobs/shadow';
import { PACKAGE_SHADOW_NAME } from '../../../core/mqtt/topics';

describe('shadow reports', () => {
  it('builds the classic shadow update the contract names', () => {
    expect(
      classicShadowUpdate(
        {
          firmware: { packageName: 'sensor-fw', version: '1.2.0' },
          agent: { state: 'updating', lastJobId: 'fw-1' },
        },
        'token-1',
      ),
    ).toEqual({
      state: {
        reported: {
          firmware: { packageName: 'sensor-fw', version: '1.2.0' },
          agent: { state: 'updating', lastJobId: 'fw-1' },
        },
      },
      clientToken: 'token-1',
    });
  });

  it('builds the $package shadow update in the software package catalog convention', () => {
    expect(PACKAGE_SHADOW_NAME).toBe('$package');
    expect(packageShadowUpdate({ packageName: 'sensor-fw', version: '1.2.0' })).toEqual({
      state: { reported: { 'sensor-fw': { version: '1.2.0' } } },
    });
  });

  it.each([
    [
      'an unknown agent state',
      { firmware: { packageName: 'p', version: '1' }, agent: { state: 'sleeping' } },
    ],
    [
      'a package name with a slash',
      { firmware: { packageName: 'a/b', version: '1' }, agent: { state: 'idle' } },
    ],
  ])('fails on %s', (_title, state) => {
    expect(() => classicShadowUpdate(state as never)).toThrow();
  });

  it('fails on a version the catalog does not accept', () => {
    expect(() => packageShadowUpdate({ packageName: 'p', version: 'v 1' })).toThrow();
  });

  it('reads a shadow error', () => {
    expect(shadowErrorSchema.parse({ code: 409, message: 'Version conflict', clientToken: 't' }).code).toBe(
      409,
    );
  });
});
