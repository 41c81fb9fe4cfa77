import { THING_NAME_PATTERN } from '../../core/limits';
import {
  CAPABILITIES,
  clientConfig,
  currentTarget,
  describeIf,
  itIf,
  resetTarget,
  TargetConfigError,
  targetKind,
  uniqueName,
  type Target,
} from '../support/target';
import { FAKE_CREDENTIALS } from '../../tools/emulator';

const awsTarget: Target = currentTarget({ FLEETKIT_TEST_TARGET: 'aws' });
const motoTarget: Target = currentTarget({
  FLEETKIT_TEST_TARGET: 'moto',
  AWS_ENDPOINT_URL: 'http://127.0.0.1:5000',
});

describe('targetKind', () => {
  it('defaults to moto', () => {
    expect(targetKind({})).toBe('moto');
    expect(targetKind({ FLEETKIT_TEST_TARGET: '' })).toBe('moto');
  });

  it('fails when FLEETKIT_TEST_TARGET names no target', () => {
    expect(() => targetKind({ FLEETKIT_TEST_TARGET: 'staging' })).toThrow(
      new TargetConfigError(
        'FLEETKIT_TEST_TARGET=staging is not a test target: use one of moto, localstack, aws',
      ),
    );
  });
});

describe('currentTarget', () => {
  it('reads the moto endpoint that global setup exported', () => {
    expect(motoTarget).toMatchObject({
      kind: 'moto',
      endpoint: 'http://127.0.0.1:5000',
      region: 'us-east-1',
    });
  });

  it('fails for moto when global setup has not run', () => {
    expect(() => currentTarget({ FLEETKIT_TEST_TARGET: 'moto' })).toThrow(/AWS_ENDPOINT_URL is not set/);
  });

  it('uses FLEETKIT_TEST_ENDPOINT for localstack, defaulting to localhost:4566', () => {
    expect(currentTarget({ FLEETKIT_TEST_TARGET: 'localstack' }).endpoint).toBe('http://localhost:4566');
    expect(
      currentTarget({ FLEETKIT_TEST_TARGET: 'localstack', FLEETKIT_TEST_ENDPOINT: 'http://ls:4566/' })
        .endpoint,
    ).toBe('http://ls:4566');
  });

  it('fails when an endpoint is not an http URL', () => {
    expect(() =>
      currentTarget({ FLEETKIT_TEST_TARGET: 'localstack', FLEETKIT_TEST_ENDPOINT: 'ls:4566' }),
    ).toThrow(/must be an http:\/\/ or https:\/\/ URL/);
    expect(() =>
      currentTarget({ FLEETKIT_TEST_TARGET: 'localstack', FLEETKIT_TEST_ENDPOINT: 'not a url' }),
    ).toThrow(/is not a URL/);
  });

  it('has no endpoint override for aws and takes the region from AWS_REGION', () => {
    const target = currentTarget({ FLEETKIT_TEST_TARGET: 'aws', AWS_REGION: 'eu-west-1' });
    expect(target).toMatchObject({ kind: 'aws', region: 'eu-west-1' });
    expect(target.endpoint).toBeUndefined();
  });

  it('gives moto every capability, so nothing is skipped on the default target', () => {
    expect([...motoTarget.capabilities].sort()).toEqual([...CAPABILITIES].sort());
  });

  it('can reset only moto', () => {
    expect(motoTarget.capabilities.has('reset')).toBe(true);
    expect(awsTarget.capabilities.has('reset')).toBe(false);
    expect(currentTarget({ FLEETKIT_TEST_TARGET: 'localstack' }).capabilities.has('reset')).toBe(false);
  });
});

describe('clientConfig', () => {
  it('points emulators at their endpoint with fake credentials', () => {
    expect(clientConfig(motoTarget)).toEqual({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:5000',
      credentials: FAKE_CREDENTIALS,
    });
  });

  it('leaves endpoint and credentials to the SDK defaults for aws', () => {
    expect(clientConfig(awsTarget)).toEqual({ region: 'us-east-1' });
  });
});

describe('resetTarget', () => {
  it('is a no-op on targets that cannot be reset', async () => {
    const fetchSpy = jest.spyOn(globalThis, 'fetch');
    await resetTarget(awsTarget);
    expect(fetchSpy).not.toHaveBeenCalled();
    fetchSpy.mockRestore();
  });

  it("posts to moto's reset API on moto", async () => {
    const fetchSpy = jest.spyOn(globalThis, 'fetch').mockResolvedValue(new Response('', { status: 200 }));
    await resetTarget(motoTarget);
    expect(fetchSpy).toHaveBeenCalledWith('http://127.0.0.1:5000/moto-api/reset', { method: 'POST' });
    fetchSpy.mockRestore();
  });
});

describe('uniqueName', () => {
  it('makes distinct names that are valid IoT thing names', () => {
    const names = Array.from({ length: 50 }, () => uniqueName('device'));
    expect(new Set(names).size).toBe(50);
    for (const name of names) {
      expect(name).toMatch(/^device-[a-z0-9]+-\d+$/);
      expect(name).toMatch(THING_NAME_PATTERN);
    }
  });

  it('fails when the prefix has characters IoT names do not allow', () => {
    expect(() => uniqueName('my device')).toThrow(TargetConfigError);
    expect(() => uniqueName('')).toThrow(TargetConfigError);
  });
});

describe('itIf and describeIf', () => {
  const noop = (): void => undefined;

  it('register the test as-is when the target has the capability', () => {
    const itSpy = jest.spyOn(globalThis, 'it').mockImplementation((() => undefined) as never);
    itIf('reset', motoTarget)('resets', noop, 1000);
    expect(itSpy).toHaveBeenCalledWith('resets', noop, 1000);
    itSpy.mockRestore();
  });

  it('skip the test, naming the missing capability, when the target lacks it', () => {
    const skipSpy = jest.spyOn(it, 'skip').mockImplementation((() => undefined) as never);
    itIf('reset', awsTarget)('resets', noop);
    expect(skipSpy).toHaveBeenCalledWith(
      "resets [skipped: target aws lacks capability 'reset']",
      noop,
      undefined,
    );
    skipSpy.mockRestore();
  });

  it('skip a whole describe block, naming the missing capability, when the target lacks it', () => {
    const skipSpy = jest.spyOn(describe, 'skip').mockImplementation((() => undefined) as never);
    describeIf('faultInjection', awsTarget)('proxy', noop);
    expect(skipSpy).toHaveBeenCalledWith(
      "proxy [skipped: target aws lacks capability 'faultInjection']",
      noop,
    );
    skipSpy.mockRestore();
  });

  it('register a describe block as-is when the target has the capability', () => {
    const describeSpy = jest.spyOn(globalThis, 'describe').mockImplementation((() => undefined) as never);
    describeIf('faultInjection', motoTarget)('proxy', noop);
    expect(describeSpy).toHaveBeenCalledWith('proxy', noop);
    describeSpy.mockRestore();
  });
});
