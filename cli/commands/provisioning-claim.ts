/**
 * `fleetkit provisioning claim`: a temporary claim certificate for fleet provisioning by trusted user.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CreateProvisioningClaimCommand } from '@aws-sdk/client-iot';
import { OutputFileExistsError, writeKeyAndCertificate } from '../../core/certificates';
import { PROVISIONING_LIMITS, PROVISIONING_TEMPLATE_NAME_PATTERN } from '../../core/limits';
import { call, type AwsClients } from '../aws-clients';
import { defineCommand, type Command } from '../command';
import { FORCE, OUT_DIR } from '../common-options';
import { formatDate } from '../lib/format';
import { matching } from '../option-values';

const LIFETIME = PROVISIONING_LIMITS.temporaryClaimLifetimeMinutes.value;

const DESCRIPTION = `Fleet provisioning by trusted user: asks AWS IoT for a temporary provisioning claim (CreateProvisioningClaim)
for the fleet provisioning template NAME and writes
  NAME-claim.pem   the temporary claim certificate
  NAME-claim.key   its private key, mode 0600
Hand both to the device (with its other settings). The claim expires ${LIFETIME} minutes after it is issued: within
that time the device must connect with it, call CreateKeysAndCertificate or CreateCertificateFromCsr, then
RegisterThing on $aws/provisioning-templates/NAME/provision/json. Temporary claims do not appear in the
account's certificate list. The device connects with a client ID in the claims' namespace, the fleet's claim
client-ID prefix (stack output ClaimClientIdPrefix; by default "<fleet name>.claim.") followed by something
unique to it: never a thing name, or it would disconnect the device of that name.

The caller needs iot:CreateProvisioningClaim on the template's ARN
(arn:aws:iot:<region>:<account>:provisioningtemplate/NAME) and nothing else.`;

/** `fleetkit provisioning claim`, with the IoT client from `iot`. */
export function createProvisioningClaimCommand(
  { iot }: Pick<AwsClients, 'iot'>,
  now: () => Date = () => new Date(),
): Command {
  return defineCommand({
    path: ['provisioning', 'claim'],
    summary:
      'get a temporary claim certificate for fleet provisioning by trusted user (CreateProvisioningClaim)',
    description: DESCRIPTION,
    options: {
      'template-name': {
        type: 'string',
        valueName: 'NAME',
        required: true,
        parse: matching(
          PROVISIONING_TEMPLATE_NAME_PATTERN,
          `1 to ${PROVISIONING_LIMITS.templateNameMaxLength.value} of letters, digits, '_' and '-'`,
        ),
        description: 'the fleet provisioning template',
      },
      'out-dir': { ...OUT_DIR, default: '.', defaultDescription: 'the current directory' },
      force: FORCE,
    },
    footer: 'See https://docs.aws.amazon.com/iot/latest/developerguide/provision-wo-cert.html#trusted-user',
    async run({ values }, io) {
      const templateName = values['template-name'];
      const outDir = resolve(values['out-dir']);
      const baseName = `${templateName}-claim`;
      const force = values.force;
      // The key is returned once: make sure it can be written before asking for it.
      for (const file of [`${baseName}.key`, `${baseName}.pem`]) {
        if (!force && existsSync(join(outDir, file))) throw new OutputFileExistsError(join(outDir, file));
      }

      const claim = await call('CreateProvisioningClaim', () =>
        iot().send(new CreateProvisioningClaimCommand({ templateName })),
      );
      if (!claim.certificatePem || !claim.keyPair?.PrivateKey || !claim.certificateId) {
        throw new Error('CreateProvisioningClaim returned no certificate or no private key.');
      }
      const written = writeKeyAndCertificate(
        outDir,
        baseName,
        { certificatePem: claim.certificatePem, privateKeyPem: claim.keyPair.PrivateKey },
        { force },
      );
      const expiry = claim.expiration;
      const minutesLeft =
        expiry === undefined ? undefined : Math.floor((expiry.getTime() - now().getTime()) / 60_000);
      io.stdout.write(
        [
          `Temporary provisioning claim for template "${templateName}"`,
          `  certificate     ${written.certificatePath}`,
          `  private key     ${written.privateKeyPath} (mode 0600)`,
          `  certificate id  ${claim.certificateId}`,
          expiry === undefined
            ? `  expires         (not returned; claims last ${LIFETIME} minutes)`
            : `  expires         ${formatDate(expiry)} (${minutesLeft} minute(s) from now)`,
          '',
          `The device must connect with this claim and complete RegisterThing before it expires. It connects with a`,
          `client ID that starts with the claim client-ID prefix (stack output ClaimClientIdPrefix, by default`,
          `"<fleet name>.claim."), never with a thing name, which would disconnect the device of that name.`,
          '',
        ].join('\n'),
      );
      return 0;
    },
  });
}
