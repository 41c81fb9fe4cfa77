import { createHash, X509Certificate } from 'node:crypto';
import {
  AMAZON_ROOT_CA_1,
  AMAZON_ROOT_CA_3,
  AWS_IOT_SERVER_ROOT_CAS_PEM,
} from '../../../core/certificates/aws-root-ca';
import { BULK_REGISTRATION_LIMITS } from '../../../core/limits';
import {
  bulkProfileOf,
  BulkProfileError,
  bulkTemplateFor,
  readBulkProfile,
  registrationParameters,
  type BulkTemplateSettings,
} from '../../../core/manifest/profile';
import { readErrorLine, readResultLine, registrationLine } from '../../../core/manifest/registration';
import { evaluateTemplate, validateTemplate } from '../../../core/provisioning';

const SETTINGS: BulkTemplateSettings = {
  certificates: 'CSR',
  thingNamePrefix: 'pump-',
  thingTypes: ['pump-v2'],
  defaultThingType: 'pump-v2',
  thingGroups: ['site-lyon', 'site-porto'],
  attributes: ['model'],
  devicePolicyName: 'pumps-device',
};

const DEVICE = {
  serialNumber: 'SN1',
  thingName: 'pump-SN1',
  thingTypeName: 'pump-v2',
  thingGroupName: 'site-lyon',
  attributes: { model: 'P2' },
};

describe('bulkTemplateFor', () => {
  test('CSR: declares every parameter a line gives, and a line evaluates to the thing the manifest row says', () => {
    const body = bulkTemplateFor(SETTINGS);
    expect(Object.keys(body.Parameters!)).toEqual([
      'ThingName',
      'SerialNumber',
      'ThingTypeName',
      'ThingGroupName',
      'Attribute_model',
      'CSR',
    ]);
    expect(body.Parameters!.ThingTypeName).toEqual({ Type: 'String', Default: 'pump-v2' });
    expect(validateTemplate(body, { type: 'BULK_REGISTRATION' })).toEqual([]);
    const parameters = registrationParameters(SETTINGS, DEVICE, { csrPem: 'CSR PEM' });
    expect(Object.keys(parameters).sort()).toEqual(Object.keys(body.Parameters!).sort());
    expect(evaluateTemplate(body, { kind: 'BULK_REGISTRATION', parameters })).toMatchObject({
      outcome: 'PROVISIONED',
      thing: {
        thingName: 'pump-SN1',
        thingTypeName: 'pump-v2',
        attributes: { serialNumber: 'SN1', model: 'P2' },
        thingGroups: ['site-lyon'],
      },
      certificate: { source: 'CertificateSigningRequest', status: 'ACTIVE' },
      policies: [{ policyName: 'pumps-device' }],
    });
  });

  test('CA: the certificate is the PEM each line gives', () => {
    const body = bulkTemplateFor({ ...SETTINGS, certificates: 'CA' });
    expect(body.Resources.certificate!.Properties).toEqual({
      CertificatePem: { Ref: 'CertificatePem' },
      Status: 'ACTIVE',
    });
    expect(registrationParameters(SETTINGS, DEVICE, { certificatePem: 'CERT' })).toMatchObject({
      CertificatePem: 'CERT',
    });
  });

  test('without types or groups in the configuration, the template has neither', () => {
    const body = bulkTemplateFor({ ...SETTINGS, thingTypes: [], thingGroups: [], attributes: [] });
    expect(Object.keys(body.Parameters!)).toEqual(['ThingName', 'SerialNumber', 'CSR']);
    expect(body.Resources.thing!.Properties).toEqual({
      ThingName: { Ref: 'ThingName' },
      AttributePayload: { serialNumber: { Ref: 'SerialNumber' } },
    });
  });
});

describe('readBulkProfile', () => {
  const profile = bulkProfileOf({ ...SETTINGS, fleet: 'pumps', caCertificateIds: [] });

  test('reads what bulkProfileOf writes', () => {
    expect(readBulkProfile(JSON.stringify(profile), 'p.json')).toEqual(profile);
    expect(JSON.parse(profile.templateBody)).toEqual(bulkTemplateFor(SETTINGS));
  });

  test('fails when the file is not JSON, or not a profile of this version, naming each problem', () => {
    expect(() => readBulkProfile('{', 'p.json')).toThrow(BulkProfileError);
    expect(() => readBulkProfile(JSON.stringify({ ...profile, version: 2 }), 'p.json')).toThrow(
      /^p\.json is not a Fleetkit bulk provisioning profile \(version 1\): version: .*Write one with `npm run bulk-profile`\.$/,
    );
    expect(() => readBulkProfile(JSON.stringify({ ...profile, certificates: 'AWS' }), 'p.json')).toThrow(
      /certificates: /,
    );
  });
});

describe('registrationLine', () => {
  test('is one line of compact JSON, line breaks in PEM escaped', () => {
    const result = registrationLine({ ThingName: 'a', CSR: '-----BEGIN\nX\n-----END\n' });
    expect(result).toEqual({ line: '{"ThingName":"a","CSR":"-----BEGIN\\nX\\n-----END\\n"}' });
  });

  test('refuses a line longer than AWS accepts', () => {
    const max = BULK_REGISTRATION_LIMITS.inputLineMaxBytes.value;
    expect(registrationLine({ A: 'x'.repeat(max - 8) })).toEqual({ line: expect.any(String) });
    expect(registrationLine({ A: 'x'.repeat(max - 7) })).toEqual({
      problem: expect.stringMatching(
        /^its registration line would be 262145 bytes; AWS IoT accepts at most 262144/,
      ),
    });
  });
});

describe('report lines', () => {
  const thingArn = 'arn:aws:iot:eu-west-1:123456789012:thing/pump-SN1';
  const certArn = `arn:aws:iot:eu-west-1:123456789012:cert/${'a'.repeat(64)}`;

  test('a result with the response as an object', () => {
    expect(
      readResultLine(
        JSON.stringify({
          referenceId: '0',
          response: { CertificatePem: 'PEM', ResourceArns: { thing: thingArn, certificate: certArn } },
        }),
      ),
    ).toEqual({
      referenceId: '0',
      thingArn,
      thingName: 'pump-SN1',
      certificateArn: certArn,
      certificateId: 'a'.repeat(64),
      certificatePem: 'PEM',
    });
  });

  test('a result with the response as a JSON string, names in the other case, a numeric reference', () => {
    const line = JSON.stringify({
      referenceId: 3,
      response: JSON.stringify({ certificatePem: 'PEM', resourceArns: { t: thingArn } }),
    });
    expect(readResultLine(line)).toEqual({
      referenceId: '3',
      thingArn,
      thingName: 'pump-SN1',
      certificatePem: 'PEM',
    });
  });

  test('errors, and lines that are not JSON objects', () => {
    expect(
      readErrorLine('{"referenceId":"1","errorCode":"InvalidRequestException","errorMessage":"bad CSR"}'),
    ).toEqual({ referenceId: '1', code: 'InvalidRequestException', message: 'bad CSR' });
    expect(readErrorLine('{"message":"no reference"}')).toEqual({ message: 'no reference' });
    expect(readResultLine('not json')).toEqual({ unreadable: 'not json' });
    expect(readErrorLine('[1]')).toEqual({ unreadable: '[1]' });
  });
});

describe('AWS IoT server root CAs', () => {
  test.each([
    [
      AMAZON_ROOT_CA_1,
      'Amazon Root CA 1',
      '8ECDE6884F3D87B1125BA31AC3FCB13D7016DE7F57CC904FE1CB97C6AE98196E',
    ],
    [
      AMAZON_ROOT_CA_3,
      'Amazon Root CA 3',
      '18CE6CFE7BF14E60B2E347B8DFE868CB31D02EBB3ADA271569F50343B46DB3A4',
    ],
  ])('%#: the certificate AWS publishes (SHA-256 fingerprint)', (pem, cn, fingerprint) => {
    const certificate = new X509Certificate(pem);
    expect(certificate.subject).toContain(`CN=${cn}`);
    expect(createHash('sha256').update(certificate.raw).digest('hex').toUpperCase()).toBe(fingerprint);
    expect(AWS_IOT_SERVER_ROOT_CAS_PEM).toContain(pem);
  });
});
