/**
 * `fleetkit claim revoke`: stops a fleet provisioning claim certificate from being used.
 */
import {
  DescribeCertificateCommand,
  ListAttachedPoliciesCommand,
  ListPrincipalThingsCommand,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import { call, type AwsClients } from '../aws-clients';
import { defineCommand, type Command } from '../command';
import { matching } from '../option-values';

/** `fleetkit claim revoke`, with the IoT client from `iot`. */
export function createClaimRevokeCommand({ iot }: Pick<AwsClients, 'iot'>): Command {
  return defineCommand({
    path: ['claim', 'revoke'],
    summary: 'revoke (or deactivate) a fleet provisioning claim certificate',
    description: `Stops a fleet provisioning claim certificate (the shared certificate devices are manufactured with) from
connecting: UpdateCertificate to REVOKED, or to INACTIVE with --inactive. Within a few minutes AWS IoT also
disconnects devices connected with it. Use it when a claim's private key may have leaked, or once a claim has
been rotated and no device in stock still carries it: a device that still has only this claim can no longer
provision.

  REVOKED    permanent: the usual answer to a leaked key
  INACTIVE   reversible with "aws iot update-certificate --new-status ACTIVE": to pause provisioning

The claim policy stays attached (it grants nothing to a certificate that cannot connect) so the record of what
the claim could do remains. Devices already provisioned are not affected: they use their own certificates.

Before changing anything the command checks that the certificate looks like a claim: it refuses a certificate
attached to a thing (a device certificate) unless --force is given.`,
    options: {
      'certificate-id': {
        type: 'string',
        valueName: 'ID',
        required: true,
        parse: matching(/^[0-9a-f]{64}$/, '64 lower-case hex characters'),
        description: "the claim certificate's ID",
      },
      inactive: { type: 'boolean', description: 'set INACTIVE instead of REVOKED' },
      force: { type: 'boolean', description: 'change it even when it is attached to things' },
    },
    footer: `The caller needs iot:DescribeCertificate, iot:ListPrincipalThings, iot:ListAttachedPolicies and
iot:UpdateCertificate on the certificate.
See https://docs.aws.amazon.com/iot/latest/developerguide/provision-wo-cert.html#claim-based`,
    async run({ values }, io) {
      const certificateId = values['certificate-id'];
      const newStatus = values.inactive ? 'INACTIVE' : 'REVOKED';

      const { certificateDescription } = await call('DescribeCertificate', () =>
        iot().send(new DescribeCertificateCommand({ certificateId })),
      );
      const certificateArn = certificateDescription?.certificateArn;
      if (!certificateArn) throw new Error(`DescribeCertificate returned no ARN for ${certificateId}.`);
      const status = certificateDescription.status ?? 'UNKNOWN';
      if (status === newStatus || status === 'REVOKED') {
        io.stdout.write(`Claim certificate ${certificateId} is already ${status}; nothing changed.\n`);
        return 0;
      }
      const { things = [] } = await call('ListPrincipalThings', () =>
        iot().send(new ListPrincipalThingsCommand({ principal: certificateArn, maxResults: 25 })),
      );
      if (things.length > 0 && !values.force) {
        throw new Error(
          `Certificate ${certificateId} is attached to ${things.length === 1 ? 'the thing' : 'things'} ${things.join(', ')}: ` +
            'it looks like a device certificate, not a claim. Nothing changed; pass --force to change it anyway.',
        );
      }
      const { policies = [] } = await call('ListAttachedPolicies', () =>
        iot().send(new ListAttachedPoliciesCommand({ target: certificateArn })),
      );

      await call('UpdateCertificate', () =>
        iot().send(new UpdateCertificateCommand({ certificateId, newStatus })),
      );
      io.stdout.write(
        [
          `Claim certificate ${certificateId}: ${status} -> ${newStatus}`,
          `  policies   ${policies.length === 0 ? '(none)' : policies.map((policy) => policy.policyName).join(', ')} (left attached)`,
          '  AWS IoT disconnects devices connected with it within a few minutes; it can no longer provision devices.',
          newStatus === 'INACTIVE'
            ? `  To allow it again: aws iot update-certificate --certificate-id ${certificateId} --new-status ACTIVE`
            : '  REVOKED is permanent. Devices that carry only this claim need a new one (fleetkit claim rotate).',
          '',
        ].join('\n'),
      );
      return 0;
    },
  });
}
