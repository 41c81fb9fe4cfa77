/**
 * Certificate-registered events as AWS IoT publishes them on `$aws/events/certificates/registered/<caId>`, in
 * both shapes seen (shared/reference/aws-iot-facts.md), for the unit and integration tests and the benchmark.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/auto-register-device-cert.html
 */
import type { SQSRecord } from 'aws-lambda';

/** The two shapes: as the AWS documentation shows it, and as captured from real accounts. */
export const REGISTRATION_EVENT_SHAPES = ['documented', 'captured'] as const;

/** A shape of {@link REGISTRATION_EVENT_SHAPES}. */
export type RegistrationEventShape = (typeof REGISTRATION_EVENT_SHAPES)[number];

/** The IDs an event carries. */
export interface RegistrationIds {
  readonly certificateId: string;
  readonly caCertificateId: string;
}

/** The documented event: `timestamp` in seconds, the registration time a string of milliseconds. */
export function documentedRegistrationEvent(
  ids: RegistrationIds,
  registeredAt: number = Date.now(),
): RegistrationIds & {
  timestamp: number;
  certificateStatus: string;
  awsAccountId: string;
  certificateRegistrationTimestamp: string;
} {
  return {
    certificateId: ids.certificateId,
    caCertificateId: ids.caCertificateId,
    timestamp: Math.floor(registeredAt / 1000),
    certificateStatus: 'PENDING_ACTIVATION',
    awsAccountId: '123456789012',
    certificateRegistrationTimestamp: String(registeredAt),
  };
}

/**
 * The event as captured from real accounts: the registration time is null, `timestamp` is in milliseconds and
 * a `sourceIp` field is added.
 */
export function capturedRegistrationEvent(
  ids: RegistrationIds,
  publishedAt: number = Date.now(),
): RegistrationIds & {
  timestamp: number;
  certificateStatus: string;
  awsAccountId: string;
  certificateRegistrationTimestamp: null;
  sourceIp: string;
} {
  return {
    certificateId: ids.certificateId,
    caCertificateId: ids.caCertificateId,
    timestamp: publishedAt,
    certificateStatus: 'PENDING_ACTIVATION',
    awsAccountId: '123456789012',
    certificateRegistrationTimestamp: null,
    sourceIp: '203.0.113.7',
  };
}

/** An event of the given shape. */
export function registrationEventOfShape(
  shape: RegistrationEventShape,
  ids: RegistrationIds,
): RegistrationIds & { readonly certificateStatus: string } {
  return shape === 'captured' ? capturedRegistrationEvent(ids) : documentedRegistrationEvent(ids);
}

/** Message attributes as SQS takes and returns them (SendMessage, ReceiveMessage). */
type SqsMessageAttributes = Readonly<
  Record<string, { readonly DataType?: string; readonly StringValue?: string }>
>;

/**
 * String message attributes as Lambda presents them in an SQS record: what a redrive of a dead letter hands the
 * function.
 */
export function lambdaMessageAttributes(
  attributes: SqsMessageAttributes | undefined,
): SQSRecord['messageAttributes'] {
  return Object.fromEntries(
    Object.entries(attributes ?? {}).map(([name, value]) => [
      name,
      {
        dataType: value.DataType!,
        stringValue: value.StringValue!,
        stringListValues: [],
        binaryListValues: [],
      },
    ]),
  );
}
