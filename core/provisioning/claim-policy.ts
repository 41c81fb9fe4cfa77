/**
 * The IoT policy of a fleet provisioning claim certificate: it may do nothing but obtain a device certificate
 * and call RegisterThing with the named templates.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/provision-wo-cert.html
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/fleet-provision-api.html
 */
import type { IotArnFormatter, IotPolicyDocument } from '../device-policy';

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
 * The claim policy document: connect, and publish, subscribe and receive only on the provisioning topics of the
 * given templates (each with its `json` or `cbor` request, `accepted` and `rejected` topics).
 *
 * `iot:Connect` allows any client ID (`client/*`): a device connecting with its claim has no thing yet, so there
 * is no name to bind its client ID to. The claim is shared by many devices and can do nothing else.
 *
 * @param arn builds ARNs in the account and region the policy is deployed to.
 * @param templateNames the fleet provisioning templates devices holding the claim may use.
 */
export function claimPolicyDocument(
  arn: IotArnFormatter,
  templateNames: readonly string[],
): IotPolicyDocument {
  const prefixes = claimTopicPrefixes(templateNames);
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'ConnectToProvision',
        Effect: 'Allow',
        Action: ['iot:Connect'],
        Resource: [arn('client', '*')],
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
