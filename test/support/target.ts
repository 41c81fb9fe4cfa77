/**
 * The integration target: which AWS the integration tests talk to, and what it can do.
 *
 * Chosen by `FLEETKIT_TEST_TARGET`:
 * - `moto` (default): a moto server started once by `test/support/global-setup.ts`, reached through
 *   `AWS_ENDPOINT_URL` with fixed fake credentials; state can be reset between tests.
 * - `localstack`: a LocalStack at `FLEETKIT_TEST_ENDPOINT` (default `http://localhost:4566`).
 * - `aws`: a sandbox account through the default credential chain, no endpoint override.
 *
 * On targets that cannot be reset, tests isolate themselves with {@link uniqueName}.
 */
import { FAKE_CREDENTIALS, resetMoto } from '../../tools/emulator';
import { FleetkitError } from '../../core/errors';

/** Kinds of integration target. */
export type TargetKind = 'moto' | 'localstack' | 'aws';

/** Every target kind, in the order they are documented. */
export const TARGET_KINDS: readonly TargetKind[] = ['moto', 'localstack', 'aws'];

/** Endpoint used for `localstack` when `FLEETKIT_TEST_ENDPOINT` is not set. */
export const DEFAULT_LOCALSTACK_ENDPOINT = 'http://localhost:4566';

/** Region used when `AWS_REGION` is not set. */
export const DEFAULT_TEST_REGION = 'us-east-1';

/**
 * Something a test may need from its target.
 *
 * - `reset`: all state can be wiped between tests (moto).
 * - `certificateIdIsDerSha256`: certificate IDs are the SHA-256 of the DER encoding, as in AWS IoT.
 * - `dynamodb`: the DynamoDB API is available.
 * - `iotCore`: the AWS IoT control plane (certificates, things, groups, policies) is available.
 * - `faultInjection`: the endpoint is plain HTTP, so `ThrottlingProxy` can sit in front of it.
 *
 * Every capability the suite uses must be present on moto, so that nothing is skipped there.
 */
export type Capability = 'reset' | 'certificateIdIsDerSha256' | 'dynamodb' | 'iotCore' | 'faultInjection';

/** Every capability, for checks that the default target has them all. */
export const CAPABILITIES: readonly Capability[] = [
  'reset',
  'certificateIdIsDerSha256',
  'dynamodb',
  'iotCore',
  'faultInjection',
];

const CAPABILITIES_BY_KIND: Readonly<Record<TargetKind, ReadonlySet<Capability>>> = {
  moto: new Set(CAPABILITIES),
  // LocalStack's IoT is moto-based without the valid-certificate setting, and cannot be reset per test here.
  localstack: new Set<Capability>(['dynamodb', 'iotCore', 'faultInjection']),
  aws: new Set<Capability>(['certificateIdIsDerSha256', 'dynamodb', 'iotCore']),
};

/** The integration target the current test run talks to. */
export interface Target {
  readonly kind: TargetKind;
  /** Endpoint override for SDK clients; absent for `aws`. */
  readonly endpoint?: string;
  readonly region: string;
  readonly capabilities: ReadonlySet<Capability>;
}

/** Configuration for an AWS SDK v3 client pointed at the current target. */
export interface TargetClientConfig {
  readonly region: string;
  readonly endpoint?: string;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

/** Thrown when the environment does not describe a usable target. */
export class TargetConfigError extends FleetkitError {
  override readonly name = 'TargetConfigError';
}

/**
 * The target kind named by `FLEETKIT_TEST_TARGET` (default `moto`).
 * @throws TargetConfigError for any other value.
 */
export function targetKind(env: NodeJS.ProcessEnv = process.env): TargetKind {
  const value = env.FLEETKIT_TEST_TARGET?.trim() || 'moto';
  if (!(TARGET_KINDS as readonly string[]).includes(value)) {
    throw new TargetConfigError(
      `FLEETKIT_TEST_TARGET=${value} is not a test target: use one of ${TARGET_KINDS.join(', ')}`,
    );
  }
  return value as TargetKind;
}

/**
 * Describe the current integration target from the environment.
 *
 * @throws TargetConfigError when the target is `moto` but no server was started (run through the jest
 *   `integration` project, whose global setup starts it), or when an endpoint is not an http(s) URL.
 */
export function currentTarget(env: NodeJS.ProcessEnv = process.env): Target {
  const kind = targetKind(env);
  const region = env.AWS_REGION?.trim() || DEFAULT_TEST_REGION;
  const capabilities = CAPABILITIES_BY_KIND[kind];
  switch (kind) {
    case 'moto': {
      const endpoint = env.AWS_ENDPOINT_URL;
      if (endpoint === undefined || endpoint === '') {
        throw new TargetConfigError(
          'FLEETKIT_TEST_TARGET=moto but AWS_ENDPOINT_URL is not set: run integration tests through ' +
            '`npx jest --selectProjects integration`, whose global setup starts moto',
        );
      }
      return { kind, endpoint: checkedUrl('AWS_ENDPOINT_URL', endpoint), region, capabilities };
    }
    case 'localstack': {
      const endpoint = checkedUrl(
        'FLEETKIT_TEST_ENDPOINT',
        env.FLEETKIT_TEST_ENDPOINT?.trim() || DEFAULT_LOCALSTACK_ENDPOINT,
      );
      return { kind, endpoint, region, capabilities };
    }
    case 'aws':
      return { kind, region, capabilities };
  }
}

function checkedUrl(name: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TargetConfigError(`${name}=${value} is not a URL: use e.g. http://127.0.0.1:4566`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TargetConfigError(`${name}=${value} must be an http:// or https:// URL`);
  }
  return value.replace(/\/+$/, '');
}

/** SDK v3 client configuration for the current target: region, endpoint override and fake credentials. */
export function clientConfig(target: Target = currentTarget()): TargetClientConfig {
  if (target.kind === 'aws') return { region: target.region };
  return { region: target.region, endpoint: target.endpoint, credentials: { ...FAKE_CREDENTIALS } };
}

/** Whether the current target has `capability`. */
export function hasCapability(capability: Capability, target: Target = currentTarget()): boolean {
  return target.capabilities.has(capability);
}

/**
 * Wipe the target's state where it can be wiped (moto); a no-op elsewhere, where tests must use
 * {@link uniqueName} instead.
 */
export async function resetTarget(target: Target = currentTarget()): Promise<void> {
  if (target.capabilities.has('reset') && target.endpoint !== undefined) {
    await resetMoto(target.endpoint);
  }
}

const RUN_ID = `${Date.now().toString(36)}${Math.floor(Math.random() * 36 ** 4)
  .toString(36)
  .padStart(4, '0')}`;
let nameCounter = 0;
const NAME_PREFIX = /^[a-zA-Z0-9_-]{1,64}$/;

/**
 * A name no other test (in this run or a concurrent one) uses: `<prefix>-<run id>-<counter>`.
 *
 * Valid as an IoT thing, group, type and policy name and as a DynamoDB table name.
 * @throws TargetConfigError when the prefix has characters outside `[a-zA-Z0-9_-]` or is over 64 long.
 */
export function uniqueName(prefix: string): string {
  if (!NAME_PREFIX.test(prefix)) {
    throw new TargetConfigError(`uniqueName prefix "${prefix}" must match ${NAME_PREFIX.source}`);
  }
  nameCounter += 1;
  return `${prefix}-${RUN_ID}-${nameCounter}`;
}

/** Signature shared by `it` and its skipped form, as returned by {@link itIf}. */
export type TestFn = (name: string, fn: jest.ProvidesCallback, timeout?: number) => void;

/** Signature shared by `describe` and its skipped form, as returned by {@link describeIf}. */
export type DescribeFn = (name: string, fn: () => void) => void;

function skippedTitle(name: string, capability: Capability, target: Target): string {
  return `${name} [skipped: target ${target.kind} lacks capability '${capability}']`;
}

/**
 * `it` when the current target has `capability`; otherwise `it.skip`, with the missing capability in the
 * title so the skip shows in the report.
 */
export function itIf(capability: Capability, target: Target = currentTarget()): TestFn {
  if (target.capabilities.has(capability)) {
    return (name, fn, timeout) => it(name, fn, timeout);
  }
  // Skipped, not failed: the target (LocalStack, a sandbox account) lacks the capability, named in the title.
  return (name, fn, timeout) => it.skip(skippedTitle(name, capability, target), fn, timeout);
}

/** `describe` when the current target has `capability`; otherwise `describe.skip`, naming the capability. */
export function describeIf(capability: Capability, target: Target = currentTarget()): DescribeFn {
  if (target.capabilities.has(capability)) {
    return (name, fn) => describe(name, fn);
  }
  // Skipped, not failed: the target lacks the capability, named in the title. On moto nothing is skipped.
  return (name, fn) => describe.skip(skippedTitle(name, capability, target), fn);
}
