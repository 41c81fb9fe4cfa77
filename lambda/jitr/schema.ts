import { z } from 'zod';
import { MalformedEventError } from './errors';

const certificateId = z.string().regex(/^[0-9a-f]{64}$/, { message: 'must be 64 lower-case hex characters' });

/**
 * The event AWS IoT publishes on `$aws/events/certificates/registered/<caCertificateId>` when it auto-registers a
 * device certificate. It carries IDs only, never the certificate.
 *
 * Only the fields the function uses are read; any others are accepted and dropped. The documented event has
 * `timestamp` (seconds) and `certificateRegistrationTimestamp` (a string of milliseconds); events captured from
 * real accounts carry `"certificateRegistrationTimestamp": null`, `timestamp` in milliseconds and an extra
 * `sourceIp`. Neither time is relied on: duplicates are recognised by the queue's own SentTimestamp and the
 * registry (see recent-certificates.ts). `timestamp`, when present, only measures the time to activation.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/auto-register-device-cert.html
 */
export const registrationEventSchema = z.object({
  certificateId,
  caCertificateId: certificateId,
  certificateStatus: z.string(),
  awsAccountId: z.string().regex(/^\d{12}$/),
  /**
   * Seconds (documented) or milliseconds (observed), for the time-to-activation metric only: anything but a number
   * (null, a string) reads as no time, and the event is still accepted.
   */
  timestamp: z
    .unknown()
    .optional()
    .transform((value) => (typeof value === 'number' && Number.isFinite(value) ? value : undefined)),
});

/** A certificate-registered event. */
export type RegistrationEvent = z.infer<typeof registrationEventSchema>;

/**
 * What a topic rule's error action sends when its action fails: the original payload, base64-encoded.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/rule-error-handling.html
 */
const ruleErrorSchema = z.object({
  ruleName: z.string(),
  base64OriginalPayload: z.string(),
  failures: z.array(z.unknown()).optional(),
});

/**
 * Parses an SQS message body from the JITR queue: a registration event, or a rule error wrapping one (after a
 * redrive from the dead-letter queue).
 *
 * @throws MalformedEventError when the body is neither.
 */
export function parseRegistrationMessage(body: string): RegistrationEvent {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    throw new MalformedEventError(`message body is not JSON (${body.length} characters)`, { cause: error });
  }
  const wrapped = ruleErrorSchema.safeParse(json);
  if (wrapped.success) {
    return parseRegistrationMessage(
      Buffer.from(wrapped.data.base64OriginalPayload, 'base64').toString('utf8'),
    );
  }
  const parsed = registrationEventSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    throw new MalformedEventError(`not a certificate-registered event: ${problems.join('; ')}`);
  }
  return parsed.data;
}
