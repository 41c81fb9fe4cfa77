import { z } from 'zod';
import {
  cloudTrailIotCallSchema,
  iotEventSchema,
  type CloudTrailIotCall,
  type IotEvent,
} from '../../core/events/registry';
import { MalformedRecordError } from './errors';

/**
 * What a topic rule's error action sends when its action fails: the original payload, base64-encoded. A redrive
 * from the dead-letter queue brings such records back.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/rule-error-handling.html
 */
const ruleErrorSchema = z.object({
  ruleName: z.string(),
  base64OriginalPayload: z.string(),
});

/** A record of the audit trail queue: an `$aws/events/...` event, or a CloudTrail record from EventBridge. */
export type AuditRecord =
  | { readonly kind: 'iot'; readonly event: IotEvent }
  | { readonly kind: 'cloudtrail'; readonly call: CloudTrailIotCall };

const problemsOf = (error: z.ZodError) =>
  error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');

/**
 * Parses an SQS message body of the audit trail queue: an event a topic rule sent (with the topic it came on), a
 * CloudTrail record an EventBridge rule sent, or a rule error wrapping either (after a redrive).
 *
 * @throws MalformedRecordError saying what the body is not.
 */
export function parseAuditRecord(body: string): AuditRecord {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    throw new MalformedRecordError(`message body is not JSON (${body.length} characters)`, { cause: error });
  }
  const wrapped = ruleErrorSchema.safeParse(json);
  if (wrapped.success) {
    return parseAuditRecord(Buffer.from(wrapped.data.base64OriginalPayload, 'base64').toString('utf8'));
  }
  if (json !== null && typeof json === 'object' && 'detail-type' in json) {
    const call = cloudTrailIotCallSchema.safeParse(json);
    if (!call.success)
      throw new MalformedRecordError(`not a CloudTrail record of an AWS IoT call: ${problemsOf(call.error)}`);
    return { kind: 'cloudtrail', call: call.data };
  }
  const event = iotEventSchema.safeParse(json);
  if (!event.success)
    throw new MalformedRecordError(`not an AWS IoT registry or jobs event: ${problemsOf(event.error)}`);
  return { kind: 'iot', event: event.data };
}
