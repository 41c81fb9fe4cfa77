/**
 * `fleetkit claim rotate`: issues a new fleet provisioning claim certificate with the claim policy.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  AttachPolicyCommand,
  CreateKeysAndCertificateCommand,
  RegisterCertificateCommand,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import {
  inspectCertificate,
  issueDeviceCertificate,
  OutputFileExistsError,
  readKeyAndCertificate,
  writeKeyAndCertificate,
} from '../../core/certificates';
import { POLICY_NAME_PATTERN, THING_NAME_PATTERN } from '../../core/limits';
import { call, type AwsClients } from '../aws-clients';
import { defineCommand, UsageError, type Command } from '../command';
import { FORCE, OUT_DIR, VALIDITY_DAYS } from '../common-options';
import { formatDate } from '../lib/format';
import { matching } from '../option-values';

/** `fleetkit claim rotate`, with the IoT client from `iot`. */
export function createClaimRotateCommand({ iot }: Pick<AwsClients, 'iot'>): Command {
  return defineCommand({
    path: ['claim', 'rotate'],
    summary: 'issue a new fleet provisioning claim certificate with the claim policy',
    description: `Issues a new fleet provisioning claim certificate, the shared certificate devices are manufactured with, and
gives it the claim policy (the one that allows only the provisioning topics). Steps, each safe to re-run:

  1. create the certificate INACTIVE and write NAME.pem and NAME.key (mode 0600) to DIR, before anything else,
     because AWS IoT returns the private key only once:
       - by default, AWS IoT creates the key pair and the certificate (CreateKeysAndCertificate);
       - with --ca-dir, the key and certificate are made locally with the CA in that directory (which must be
         registered with AWS IoT) and registered (RegisterCertificate);
  2. attach the claim policy (AttachPolicy);
  3. activate the certificate (UpdateCertificate ACTIVE), last, so that it never works without its policy.

Devices connect with the claim using a client ID in the claims' namespace: the fleet's claim client-ID prefix
(stack output ClaimClientIdPrefix; by default "<fleet name>.claim.") followed by something unique to the device,
such as its serial number. The claim policy refuses any other client ID, so that a claim can never connect as a
provisioned device (whose client ID is its thing name) and knock it off.

Then put the new claim into manufacturing. The old claim keeps working for devices already built with it;
once none remains in stock or in transit, revoke it:
  fleetkit claim revoke --certificate-id <old claim id>
If the old claim's key has leaked, revoke it at once instead, and re-flash the devices that still carry it.`,
    options: {
      'policy-name': {
        type: 'string',
        valueName: 'NAME',
        required: true,
        parse: matching(POLICY_NAME_PATTERN, '1 to 128 of letters, digits and _+=,.@-'),
        description: 'the claim policy to attach',
      },
      'out-dir': {
        ...OUT_DIR,
        default: '.',
        defaultDescription: 'the current directory',
        description: 'where to write NAME.pem and NAME.key',
      },
      name: {
        type: 'string',
        valueName: 'NAME',
        default: 'claim',
        parse: matching(THING_NAME_PATTERN, "1 to 128 of letters, digits, ':', '_' and '-'"),
        description: 'file name, and the CN with --ca-dir',
      },
      'ca-dir': {
        type: 'string',
        valueName: 'DIR',
        description: "issue with the CA in DIR (ca.pem, ca.key) instead of AWS IoT's CA",
      },
      days: { ...VALIDITY_DAYS, description: 'validity with --ca-dir', defaultDescription: '365' },
      force: FORCE,
    },
    footer: `The caller needs iot:CreateKeysAndCertificate (or iot:RegisterCertificate), iot:AttachPolicy on the claim
policy and the certificate, and iot:UpdateCertificate.
See https://docs.aws.amazon.com/iot/latest/developerguide/provision-wo-cert.html#claim-based`,
    async run({ values }, io) {
      const policyName = values['policy-name'];
      const name = values.name;
      if (values.days !== undefined && values['ca-dir'] === undefined) {
        throw new UsageError(
          '--days applies only with --ca-dir: AWS IoT sets the validity of the certificates it issues.',
        );
      }
      const outDir = resolve(values['out-dir']);
      const force = values.force;
      for (const file of [`${name}.key`, `${name}.pem`]) {
        if (!force && existsSync(join(outDir, file))) throw new OutputFileExistsError(join(outDir, file));
      }

      let certificateId: string;
      let certificateArn: string;
      let certificatePem: string;
      if (values['ca-dir'] === undefined) {
        const created = await call('CreateKeysAndCertificate', () =>
          iot().send(new CreateKeysAndCertificateCommand({ setAsActive: false })),
        );
        if (
          !created.certificateId ||
          !created.certificateArn ||
          !created.certificatePem ||
          !created.keyPair?.PrivateKey
        ) {
          throw new Error('CreateKeysAndCertificate returned no certificate or no private key.');
        }
        ({ certificateId, certificateArn, certificatePem } = created as Required<typeof created>);
        writeKeyAndCertificate(
          outDir,
          name,
          { certificatePem, privateKeyPem: created.keyPair.PrivateKey },
          { force },
        );
      } else {
        const ca = readKeyAndCertificate(resolve(values['ca-dir']), 'ca');
        const issued = await issueDeviceCertificate({
          ca,
          subject: { CN: name },
          validityDays: values.days,
        });
        writeKeyAndCertificate(outDir, name, issued, { force });
        certificatePem = issued.certificatePem;
        const registered = await call('RegisterCertificate', () =>
          iot().send(
            new RegisterCertificateCommand({
              certificatePem: issued.certificatePem,
              caCertificatePem: ca.certificatePem,
              status: 'INACTIVE',
            }),
          ),
        );
        if (!registered.certificateId || !registered.certificateArn) {
          throw new Error('RegisterCertificate returned no certificate ID.');
        }
        ({ certificateId, certificateArn } = registered as Required<typeof registered>);
      }

      await call('AttachPolicy', () =>
        iot().send(new AttachPolicyCommand({ policyName, target: certificateArn })),
      );
      await call('UpdateCertificate', () =>
        iot().send(new UpdateCertificateCommand({ certificateId, newStatus: 'ACTIVE' })),
      );
      const info = inspectCertificate(certificatePem);
      io.stdout.write(
        [
          `New claim certificate ${certificateId} (ACTIVE, policy ${policyName}, valid until ${formatDate(info.notAfter)})`,
          `  certificate   ${join(outDir, `${name}.pem`)}`,
          `  private key   ${join(outDir, `${name}.key`)} (mode 0600: goes only to the manufacturing line)`,
          '',
          'Devices connect with it as <claim client-ID prefix><unique suffix>, e.g. <prefix>SN0001: the prefix is the',
          'stack output ClaimClientIdPrefix (by default "<fleet name>.claim."); the claim policy refuses other client IDs.',
          '',
          'Next: build devices with the new claim. When no device with the old claim is left in stock, revoke it:',
          '  fleetkit claim revoke --certificate-id <old claim id>',
          '',
        ].join('\n'),
      );
      return 0;
    },
  });
}
