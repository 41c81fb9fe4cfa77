/**
 * The one AWS IoT policy every device shares, written with policy variables so it never has to be created per
 * device (CreatePolicy is rate-limited and policies per account are limited).
 *
 * A device may connect only with its own thing name as client ID and only while its certificate is attached to
 * that thing; it may publish, subscribe and receive only under `things/<its name>/` and its own
 * `$aws/things/<its name>/` reserved topics (shadow, jobs). Nothing else: no `iot:*`, no `*` resource.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/thing-policy-variables.html
 */

/** Policy variable that resolves to the connected thing's name. */
export const THING_NAME_VARIABLE = '${iot:Connection.Thing.ThingName}';

/** The device's own application topic prefix: `things/<thing name>/`. */
export const DEVICE_TOPIC_ROOT = 'things';

/** Builds an IoT resource ARN, e.g. `client/x` → `arn:<partition>:iot:<region>:<account>:client/x`. */
export type IotArnFormatter = (resource: 'client' | 'topic' | 'topicfilter', name: string) => string;

/** An IoT policy document. */
export interface IotPolicyDocument {
  readonly Version: '2012-10-17';
  readonly Statement: readonly IotPolicyStatement[];
}

/** One statement of an IoT policy document. */
export interface IotPolicyStatement {
  readonly Sid: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: readonly string[];
  readonly Resource: readonly string[];
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;
}

/**
 * The shared device policy document.
 *
 * @param arn builds ARNs in the account and region the policy is deployed to.
 */
export function devicePolicyDocument(arn: IotArnFormatter): IotPolicyDocument {
  const own = `${DEVICE_TOPIC_ROOT}/${THING_NAME_VARIABLE}/*`;
  const reserved = `$aws/things/${THING_NAME_VARIABLE}/*`;
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'ConnectAsOwnThing',
        Effect: 'Allow',
        Action: ['iot:Connect'],
        Resource: [arn('client', THING_NAME_VARIABLE)],
        Condition: { Bool: { 'iot:Connection.Thing.IsAttached': 'true' } },
      },
      {
        Sid: 'PublishAndReceiveOwnTopics',
        Effect: 'Allow',
        Action: ['iot:Publish', 'iot:Receive'],
        Resource: [arn('topic', own), arn('topic', reserved)],
      },
      {
        Sid: 'SubscribeOwnTopics',
        Effect: 'Allow',
        Action: ['iot:Subscribe'],
        Resource: [arn('topicfilter', own), arn('topicfilter', reserved)],
      },
    ],
  };
}
