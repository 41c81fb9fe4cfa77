/**
 * `fleetkit register thing` against a mocked RegisterThing (moto does not implement it, nor does the local
 * runtime's control-plane overlay): exact inputs, the key made here, a certificate from a local CA, and parameters
 * the template would refuse failing before anything is registered.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeEndpointCommand, IoTClient, RegisterThingCommand } from '@aws-sdk/client-iot';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { writeKeyAndCertificate } from '../../core/certificates/files';
import { inspectCertificate } from '../../core/certificates/inspect';
import {
  createCertificateAuthority,
  issueDeviceCertificate,
  type KeyAndCertificate,
} from '../../core/certificates/issue';
import { bulkProfileOf, type BulkTemplateSettings } from '../../core/manifest/profile';
import { runFleetkit as fleetkit } from '../support/cli';
import { certificatePublicKey, openssl } from '../core/certificates/openssl';

const iot = mockClient(IoTClient);
const ARN = 'arn:aws:iot:eu-west-1:123456789012';
const ENDPOINT = 'a1b2c3-ats.iot.eu-west-1.amazonaws.com';

const SETTINGS: BulkTemplateSettings = {
  certificates: 'CSR',
  thingNamePrefix: 'pump-',
  thingTypes: [],
  thingGroups: ['site-lyon'],
  defaultThingGroup: 'site-lyon',
  attributes: [],
  devicePolicyName: 'pumps-device',
};

let dir: string;
let awsCa: KeyAndCertificate;
let factoryCa: KeyAndCertificate;

beforeAll(async () => {
  awsCa = await createCertificateAuthority({ subject: { CN: 'AWS IoT stand-in CA' } });
  factoryCa = await createCertificateAuthority({ subject: { CN: 'Factory CA' } });
});

beforeEach(() => {
  iot.reset();
  dir = mkdtempSync(join(tmpdir(), 'fleetkit-register-thing-'));
  iot.on(DescribeEndpointCommand, { endpointType: 'iot:Data-ATS' }).resolves({ endpointAddress: ENDPOINT });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function profile(settings: BulkTemplateSettings): string {
  const path = join(dir, `${settings.certificates}.json`);
  writeFileSync(path, JSON.stringify(bulkProfileOf({ ...settings, fleet: 'pumps', caCertificateIds: [] })));
  return path;
}

const resourceArns = (thing: string) => ({
  thing: `${ARN}:thing/${thing}`,
  certificate: `${ARN}:cert/${'d'.repeat(64)}`,
  policy: `${ARN}:policy/pumps-device`,
});

describe('register thing', () => {
  test('makes the key and CSR here, registers with the exact template and parameters, writes the bundle', async () => {
    const template = profile(SETTINGS);
    iot.on(RegisterThingCommand).callsFake(async (input: { parameters: Record<string, string> }) => ({
      certificatePem: (
        await issueDeviceCertificate({
          ca: awsCa,
          subject: { CN: 'AWS IoT Certificate' },
          csrPem: input.parameters.CSR,
        })
      ).certificatePem,
      resourceArns: resourceArns('pump-SN7'),
    }));

    const run = await fleetkit(
      'register',
      'thing',
      '--template',
      template,
      '--parameters',
      'ThingName=pump-SN7,SerialNumber=SN7',
      '--out-dir',
      dir,
    );

    expect(run.code).toBe(0);
    const { templateBody } = JSON.parse(readFileSync(template, 'utf8')) as { templateBody: string };
    expect(iot).toHaveReceivedCommandTimes(RegisterThingCommand, 1);
    const input = iot.commandCalls(RegisterThingCommand)[0]!.args[0].input;
    expect(input.templateBody).toBe(templateBody);
    expect(Object.keys(input.parameters!).sort()).toEqual(['CSR', 'SerialNumber', 'ThingName']);
    expect(input.parameters).toMatchObject({ ThingName: 'pump-SN7', SerialNumber: 'SN7' });
    expect(openssl(['req', '-noout', '-subject'], { input: input.parameters!.CSR })).toContain(
      'CN = pump-SN7',
    );

    const bundle = join(dir, 'pump-SN7');
    const certificate = readFileSync(join(bundle, 'certificate.pem'), 'utf8');
    expect(certificatePublicKey(certificate)).toBe(
      openssl(['pkey', '-pubout', '-in', join(bundle, 'private.key')]),
    );
    expect(openssl(['req', '-noout', '-pubkey'], { input: input.parameters!.CSR })).toBe(
      certificatePublicKey(certificate),
    );
    expect(statSync(join(bundle, 'private.key')).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(join(bundle, 'bundle.json'), 'utf8'))).toEqual({
      thingName: 'pump-SN7',
      endpoint: ENDPOINT,
      certificateId: inspectCertificate(certificate).certificateId,
      certificateArn: resourceArns('pump-SN7').certificate,
      thingArn: resourceArns('pump-SN7').thing,
    });
    expect(run.stdout).toContain('Registered thing "pump-SN7"');
    expect(run.stdout).toContain(`  endpoint   ${ENDPOINT}`);
  });

  test('with a certificate template, the CA in --ca-dir signs; the bundle carries the chain', async () => {
    const template = profile({ ...SETTINGS, certificates: 'CA' });
    const caDir = join(dir, 'ca');
    writeKeyAndCertificate(caDir, 'ca', factoryCa);
    iot.on(RegisterThingCommand).callsFake((input: { parameters: Record<string, string> }) =>
      Promise.resolve({
        certificatePem: input.parameters.CertificatePem,
        resourceArns: resourceArns('pump-SN8'),
      }),
    );

    const run = await fleetkit(
      'register',
      'thing',
      '--template',
      template,
      '--parameters',
      'ThingName=pump-SN8,SerialNumber=SN8',
      '--ca-dir',
      caDir,
      '--out-dir',
      dir,
      '--json',
    );

    expect(run.code).toBe(0);
    const bundle = join(dir, 'pump-SN8');
    writeFileSync(join(dir, 'factory-ca.pem'), factoryCa.certificatePem);
    expect(
      openssl(['verify', '-CAfile', join(dir, 'factory-ca.pem'), join(bundle, 'certificate.pem')]),
    ).toContain(': OK');
    expect(readFileSync(join(bundle, 'ca-chain.pem'), 'utf8')).toBe(factoryCa.certificatePem);
    expect(JSON.parse(run.stdout)).toMatchObject({ thingName: 'pump-SN8', endpoint: ENDPOINT, bundle });
  });

  test('fails before registering anything when the template would refuse the parameters', async () => {
    const run = await fleetkit(
      'register',
      'thing',
      '--template',
      profile(SETTINGS),
      '--parameters',
      'ThingName=pump 9,SerialNumber=SN9',
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('RegisterThing would fail, so nothing was registered:');
    expect(run.stderr).toContain('[INVALID_THING_NAME]');
    expect(iot).not.toHaveReceivedCommand(RegisterThingCommand);
  });

  test('fails when a certificate template gets neither the certificate nor a CA', async () => {
    const run = await fleetkit(
      'register',
      'thing',
      '--template',
      profile({ ...SETTINGS, certificates: 'CA' }),
      '--parameters',
      'ThingName=pump-1,SerialNumber=1',
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      'The template takes the certificate from the parameter CertificatePem: give it, or --ca-dir to have your CA sign one.',
    );
  });

  test('fails when the bundle folder exists, before registering', async () => {
    mkdirSync(join(dir, 'pump-SN1'));
    const run = await fleetkit(
      'register',
      'thing',
      '--template',
      profile(SETTINGS),
      '--parameters',
      'ThingName=pump-SN1,SerialNumber=SN1',
      '--out-dir',
      dir,
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${join(dir, 'pump-SN1')} already exists`);
    expect(iot).not.toHaveReceivedCommand(RegisterThingCommand);
  });
});
