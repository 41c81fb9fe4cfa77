/*
 * Failures of the registry provider. Each is terminal for the CloudFormation operation (the Provider framework
 * reports FAILED with the message) except an AwsApiError marked `transient`, which isComplete turns into
 * "not complete yet" so the framework asks again at the next interval.
 */
import { FleetkitError } from '../../core/errors';

/** The function's environment is missing or invalid: a deployment defect, reported at cold start. */
export class ConfigurationError extends FleetkitError {
  override readonly name = 'ConfigurationError';
}

/** The invocation is not a custom resource event the Provider framework would send. */
export class MalformedEventError extends FleetkitError {
  override readonly name = 'MalformedEventError';
}

/** The event names a resource type this provider does not implement. */
export class UnsupportedResourceTypeError extends FleetkitError {
  override readonly name = 'UnsupportedResourceTypeError';
}

/** ResourceProperties (or OldResourceProperties) break the contract; the message names each property. */
export class InvalidPropertiesError extends FleetkitError {
  override readonly name = 'InvalidPropertiesError';

  constructor(
    message: string,
    readonly problems: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * An AWS call failed. `transient` when retrying later can succeed (throttling, 5xx, network). One subclass per
 * service, so that a log names the service; the message names the operation, the subject and AWS's error.
 */
export abstract class AwsApiError extends FleetkitError {
  constructor(
    readonly operation: string,
    readonly subject: string,
    readonly transient: boolean,
    cause: unknown,
  ) {
    const detail = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    super(`${operation} for ${subject} failed: ${detail}`, { cause });
  }
}

/** An AWS IoT call failed. */
export class IotApiError extends AwsApiError {
  override readonly name = 'IotApiError';
}

/** An update asks to change what AWS IoT cannot change on a thing type. */
export class ImmutableThingTypeError extends FleetkitError {
  override readonly name = 'ImmutableThingTypeError';
}

/** A thing type of that name exists already with other properties. */
export class ThingTypeConflictError extends FleetkitError {
  override readonly name = 'ThingTypeConflictError';
}

/** A thing type cannot be removed while things still have it. */
export class ThingTypeInUseError extends FleetkitError {
  override readonly name = 'ThingTypeInUseError';

  constructor(
    message: string,
    readonly thingTypeName: string,
    readonly thingCount: number,
    readonly sample: readonly string[],
  ) {
    super(message);
  }
}

/** A thing type waiting for deletion was undeprecated by someone else. */
export class ThingTypeUndeprecatedError extends FleetkitError {
  override readonly name = 'ThingTypeUndeprecatedError';
}

/** isComplete has no way to tell when the deprecation started (a defect: onEvent always passes it). */
export class MissingWaitStateError extends FleetkitError {
  override readonly name = 'MissingWaitStateError';
}

/** Thing indexing cannot be turned off while dynamic thing groups exist. */
export class DynamicGroupsBlockIndexingError extends FleetkitError {
  override readonly name = 'DynamicGroupsBlockIndexingError';

  constructor(
    message: string,
    readonly dynamicGroups: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The thing group a policy should be attached to does not exist. */
export class ThingGroupNotFoundError extends FleetkitError {
  override readonly name = 'ThingGroupNotFoundError';
}

/** The thing group is dynamic, and AWS IoT attaches no policies to dynamic groups. */
export class DynamicGroupPolicyError extends FleetkitError {
  override readonly name = 'DynamicGroupPolicyError';
}

/** AttachPolicy answered that the policy (or the group, deleted meanwhile) does not exist. */
export class PolicyNotFoundError extends FleetkitError {
  override readonly name = 'PolicyNotFoundError';
}

/** A signing profile of that name exists and cannot sign: canceled or revoked. */
export class SigningProfileUnusableError extends FleetkitError {
  override readonly name = 'SigningProfileUnusableError';
}

/** A CloudWatch Logs call failed. */
export class LogsApiError extends AwsApiError {
  override readonly name = 'LogsApiError';
}
