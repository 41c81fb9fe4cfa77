/**
 * `fleetkit register thing`: registers one device with a template and parameters (RegisterThing), and writes its
 * bundle. The single-device counterpart of `bulk prepare` and `bulk run`, for a line that makes one device at a
 * time or a device registered again after repair.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DescribeEndpointCommand, RegisterThingCommand } from '@aws-sdk/client-iot';
import {
  createCertificateSigningRequest,
  inspectCertificate,
  issueDeviceCertificate,
  OutputFileExistsError,
} from '../../core/certificates';
import {
  evaluateTemplate,
  formatProblems,
  hasErrors,
  isRecord,
  validateTemplate,
} from '../../core/provisioning';
import { call, type AwsClients } from '../aws-clients';
import { AWS_SETTINGS_NOTE, defineCommand, UsageError, type Command } from '../command';
import { JSON_OUTPUT, kmsKeyId, VALIDITY_DAYS } from '../common-options';
import { BUNDLE_FILES, writeDeviceBundle } from '../lib/bulk/bundle';
import { issuingCa, readCaDirectory } from '../lib/ca-directory';
import { readStringMapFile } from '../lib/files';
import { readTemplateFile } from '../lib/template-file';
import { keyValues } from '../option-values';

/** `fleetkit register thing`, with the IoT client for RegisterThing and the KMS client for a KMS-held CA. */
export function createRegisterThingCommand({ iot, kms }: Pick<AwsClients, 'iot' | 'kms'>): Command {
  return defineCommand({
    path: ['register', 'thing'],
    summary: 'register one device with a template and parameters (RegisterThing) and write its bundle',
    description: `Registers one device with AWS IoT's RegisterThing: the template (a bulk registration template, or the
bulk provisioning profile, whose template it uses) and the device's parameters. When the template takes the
certificate from a CSR parameter that is not given, a P-256 key and a CSR are made here and AWS IoT signs the CSR;
from a CertificatePem parameter that is not given, the CA in --ca-dir signs one (its key local or in KMS). The
template is evaluated first, so parameters it would refuse fail here, before anything is registered.
Writes OUT/<thing name>/: ${BUNDLE_FILES.certificate}, ${BUNDLE_FILES.key} (0600, when made here), ${BUNDLE_FILES.chain} (CA-signed),
${BUNDLE_FILES.rootCa} and ${BUNDLE_FILES.info} (thing name, endpoint iot:Data-ATS, certificate ID).`,
    options: {
      template: {
        type: 'string',
        valueName: 'FILE',
        required: true,
        description: 'the template, or a bulk provisioning profile (npm run bulk-profile)',
      },
      parameters: {
        type: 'string',
        valueName: 'K=V,...',
        parse: keyValues,
        description: 'the parameters (values cannot contain ","; use --parameters-file for those)',
      },
      'parameters-file': {
        type: 'string',
        valueName: 'FILE',
        description: 'the parameters as a JSON object of strings',
      },
      'ca-dir': {
        type: 'string',
        valueName: 'DIR',
        description: 'a CA directory, to sign the certificate a CertificatePem parameter takes',
      },
      'kms-key-id': kmsKeyId("the CA's"),
      days: { ...VALIDITY_DAYS, defaultDescription: '365; at most until the CA expires' },
      'out-dir': {
        type: 'string',
        valueName: 'DIR',
        description: 'where the bundle folder goes',
        defaultDescription: 'the current directory',
      },
      json: JSON_OUTPUT,
    },
    oneOf: [['parameters', 'parameters-file']],
    footer: `${AWS_SETTINGS_NOTE}\nNeeds iot:RegisterThing and iot:DescribeEndpoint, and what the template does. See
https://docs.aws.amazon.com/iot/latest/developerguide/single-thing-provisioning.html`,
    async run({ values }, io) {
      const template = readTemplateFile(values.template);
      const problems = validateTemplate(template.bodyText, { type: 'BULK_REGISTRATION' });
      if (hasErrors(problems)) {
        throw new Error(
          `${template.path} is not a template RegisterThing accepts: ${formatProblems(
            problems.filter((problem) => problem.severity === 'error'),
          ).join('; ')}`,
        );
      }
      const parameters = {
        ...(values.parameters ?? readStringMapFile(values['parameters-file']!, '--parameters-file')),
      };
      const source = certificateSource(template.body);
      let privateKeyPem: string | undefined;
      let caChainPem: string | undefined;
      const probe = { ...parameters };
      // A placeholder for a certificate not made yet: the thing's name never depends on it.
      if (source !== undefined) probe[source.parameter] ??= '-';
      const thingName = thingNameOf(template.body, probe);
      if (source !== undefined && parameters[source.parameter] === undefined) {
        const subject = { CN: thingName ?? 'device' };
        if (source.kind === 'CertificateSigningRequest') {
          if (values['ca-dir'] !== undefined) {
            throw new UsageError('The template has AWS IoT sign a CSR: give no --ca-dir.');
          }
          const request = createCertificateSigningRequest({ subject });
          parameters[source.parameter] = request.csrPem;
          privateKeyPem = request.privateKeyPem;
        } else {
          if (values['ca-dir'] === undefined) {
            throw new UsageError(
              `The template takes the certificate from the parameter ${source.parameter}: give it, or --ca-dir to have your CA sign one.`,
            );
          }
          const ca = readCaDirectory(resolve(values['ca-dir']), { kmsKeyId: values['kms-key-id'] });
          const issued = await issueDeviceCertificate({
            ca: await issuingCa(ca, kms),
            subject,
            ...(values.days !== undefined && { validityDays: values.days }),
          });
          parameters[source.parameter] = issued.certificatePem;
          privateKeyPem = issued.privateKeyPem;
          caChainPem = ca.certificatePem;
        }
      }
      const plan = evaluateTemplate(template.body, { kind: 'BULK_REGISTRATION', parameters });
      if (plan.outcome === 'FAILED') {
        throw new Error(
          `RegisterThing would fail, so nothing was registered: ${plan.message} [${plan.code}]`,
        );
      }
      const name = plan.thing?.thingName;
      if (name === undefined)
        throw new Error('The template names no thing (ThingName): nothing to register.');
      const outDir = resolve(values['out-dir'] ?? '.');
      if (existsSync(join(outDir, name))) throw new OutputFileExistsError(join(outDir, name));

      const registered = await call('RegisterThing', () =>
        iot().send(new RegisterThingCommand({ templateBody: template.bodyText, parameters })),
      );
      const certificatePem = registered.certificatePem ?? parameters[source?.parameter ?? ''];
      if (certificatePem === undefined) {
        throw new Error(
          `RegisterThing registered ${name} but returned no certificate; see aws iot describe-thing.`,
        );
      }
      const endpoint = (
        await call('DescribeEndpoint', () =>
          iot().send(new DescribeEndpointCommand({ endpointType: 'iot:Data-ATS' })),
        )
      ).endpointAddress;
      if (endpoint === undefined) throw new Error('DescribeEndpoint returned no endpoint address');
      const arns = registered.resourceArns ?? {};
      const certificateArn = Object.values(arns).find((arn) => arn.includes(':cert/'));
      const thingArn = Object.values(arns).find((arn) => arn.includes(':thing/'));
      writeDeviceBundle(outDir, {
        thingName: name,
        endpoint,
        certificatePem,
        ...(privateKeyPem !== undefined && { privateKeyPem }),
        ...(caChainPem !== undefined && { caChainPem }),
        ...(certificateArn !== undefined && { certificateArn }),
        ...(thingArn !== undefined && { thingArn }),
      });
      const certificateId = inspectCertificate(certificatePem).certificateId;
      const bundle = join(outDir, name);
      if (values.json) {
        io.stdout.write(
          `${JSON.stringify({ thingName: name, endpoint, certificateId, resourceArns: arns, bundle }, null, 2)}\n`,
        );
      } else {
        io.stdout.write(
          [
            `Registered thing "${name}" (certificate ${certificateId})`,
            `  bundle     ${bundle}/ (${privateKeyPem === undefined ? 'no key: the device keeps its own' : `${BUNDLE_FILES.key} mode 0600`})`,
            `  endpoint   ${endpoint}`,
            ...Object.entries(arns).map(([logical, arn]) => `  ${logical.padEnd(10)} ${arn}`),
            '',
          ].join('\n'),
        );
      }
      return 0;
    },
  });
}

/** The parameter a template takes the device certificate from, and how: a CSR or a PEM. */
function certificateSource(
  body: unknown,
): { kind: 'CertificateSigningRequest' | 'CertificatePem'; parameter: string } | undefined {
  const resources = isRecord(body) && isRecord(body.Resources) ? Object.values(body.Resources) : [];
  for (const resource of resources) {
    if (!isRecord(resource) || resource.Type !== 'AWS::IoT::Certificate' || !isRecord(resource.Properties))
      continue;
    for (const kind of ['CertificateSigningRequest', 'CertificatePem'] as const) {
      const value = resource.Properties[kind];
      if (isRecord(value) && typeof value.Ref === 'string') return { kind, parameter: value.Ref };
    }
  }
  return undefined;
}

/** The thing name the template gives with these parameters (before a certificate is made), for the subject. */
function thingNameOf(body: unknown, parameters: Readonly<Record<string, string>>): string | undefined {
  const plan = evaluateTemplate(body, { kind: 'BULK_REGISTRATION', parameters });
  return plan.outcome === 'PROVISIONED' ? plan.thing?.thingName : undefined;
}
