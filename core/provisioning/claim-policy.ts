/**
 * The IoT policy of a fleet provisioning claim certificate: it may do nothing but obtain a device certificate
 * and call RegisterThing with the named templates.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/provision-wo-cert.html
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/fleet-provision-api.html
 */
import type { IotArnFormatter, IotPolicyDocument } from '../device-policy';
import { MQTT_CLIENT_ID_MAX_BYTES, THING_NAME_CHARACTER } from '../limits';

/**
 * What a claim client-ID prefix may be made of: letters, digits and `:_.-`. Not `*` or `?` (wildcards in an IoT
 * policy resource), not `$` (a client ID cannot start with it, and it opens policy variables), not `/` or other
 * characters the data-plane API must percent-encode. At most 64 characters, so that a device keeps at least 64
 * bytes of the 128-byte client ID for its own suffix.
 */
export const CLAIM_CLIENT_ID_PREFIX_PATTERN = /^[A-Za-z0-9:_.-]{2,64}$/;

/**
 * Why `prefix` cannot be the client-ID namespace of claim certificates, or `undefined` when it can.
 *
 * A device connects with its thing name as client ID (the device policy allows no other), and AWS IoT drops the
 * older of two connections with the same client ID. A claim is shared by every device built with it and can
 * leak, so if a claim could connect as any client ID, whoever holds it could knock any provisioned device off,
 * again and again. A prefix with a character that thing names cannot contain (`.`) makes the claims' client IDs
 * and the things' client IDs two sets that never meet, whatever names templates, JITR or operators give things.
 *
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_CreateThing.html (thing names: `[a-zA-Z0-9:_-]+`)
 * @see https://docs.aws.amazon.com/general/latest/gr/iot-core.html#message-broker-limits (client IDs: 128 bytes)
 */
export function claimClientIdPrefixProblem(prefix: string): string | undefined {
  if (!CLAIM_CLIENT_ID_PREFIX_PATTERN.test(prefix)) {
    return `must be 2-64 characters of [A-Za-z0-9:_.-] (no policy wildcard * or ?, no $, no /), leaving a device at least ${MQTT_CLIENT_ID_MAX_BYTES.value - 64} of the ${MQTT_CLIENT_ID_MAX_BYTES.value} bytes of a client ID (${MQTT_CLIENT_ID_MAX_BYTES.source})`;
  }
  if ([...prefix].every((character) => THING_NAME_CHARACTER.test(character))) {
    return "must contain a character no thing name can contain (.): thing names are [a-zA-Z0-9:_-] (https://docs.aws.amazon.com/iot/latest/apireference/API_CreateThing.html), so with this prefix a claim could connect with a provisioned device's client ID and disconnect it";
  }
  return undefined;
}

/**
 * The MQTT topics of the fleet provisioning API a claim may use, without their `<format>/...` suffix:
 * CreateKeysAndCertificate, CreateCertificateFromCsr, and RegisterThing for each template.
 */
export function claimTopicPrefixes(templateNames: readonly string[]): string[] {
  return [
    '$aws/certificates/create',
    '$aws/certificates/create-from-csr',
    ...templateNames.map((name) => `$aws/provisioning-templates/${name}/provision`),
  ];
}

/**
 * The claim policy document: connect with a client ID in the claims' namespace, and publish, subscribe and
 * receive only on the provisioning topics of the given templates (each with its `json` or `cbor` request,
 * `accepted` and `rejected` topics).
 *
 * `iot:Connect` allows the client IDs that start with `clientIdPrefix` (`client/<prefix>*`): a device connecting
 * with its claim has no thing yet, so there is no name to bind its client ID to, but it must not be able to take
 * a thing's (see {@link claimClientIdPrefixProblem}). The claim is shared by many devices and can do nothing else.
 *
 * @param arn builds ARNs in the account and region the policy is deployed to.
 * @param templateNames the fleet provisioning templates devices holding the claim may use.
 * @param clientIdPrefix the claims' client-ID namespace.
 * @throws Error when `clientIdPrefix` is not one (see {@link claimClientIdPrefixProblem}).
 */
export function claimPolicyDocument(
  arn: IotArnFormatter,
  templateNames: readonly string[],
  clientIdPrefix: string,
): IotPolicyDocument {
  const problem = claimClientIdPrefixProblem(clientIdPrefix);
  if (problem !== undefined) throw new Error(`claim client-ID prefix "${clientIdPrefix}" ${problem}`);
  const prefixes = claimTopicPrefixes(templateNames);
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'ConnectToProvision',
        Effect: 'Allow',
        Action: ['iot:Connect'],
        Resource: [arn('client', `${clientIdPrefix}*`)],
      },
      {
        Sid: 'ProvisioningRequestsAndAnswers',
        Effect: 'Allow',
        Action: ['iot:Publish', 'iot:Receive'],
        Resource: prefixes.map((prefix) => arn('topic', `${prefix}/*`)),
      },
      {
        Sid: 'SubscribeToProvisioningAnswers',
        Effect: 'Allow',
        Action: ['iot:Subscribe'],
        Resource: prefixes.map((prefix) => arn('topicfilter', `${prefix}/*`)),
      },
    ],
  };
}
