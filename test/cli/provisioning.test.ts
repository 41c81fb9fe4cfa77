import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AttachPolicyCommand,
  CreateKeysAndCertificateCommand,
  type CertificateStatus,
  CreateProvisioningClaimCommand,
  DescribeCertificateCommand,
  InvalidRequestException,
  IoTClient,
  ListAttachedPoliciesCommand,
  ListPrincipalThingsCommand,
  RegisterCertificateCommand,
  ResourceNotFoundException,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { createProvisioningClaimCommand } from '../../cli/commands/provisioning-claim';
import { runFleetkit as fleetkit } from '../support/cli';
import { writeKeyAndCertificate } from '../../core/certificates/files';
import { inspectCertificate } from '../../core/certificates/inspect';
import {
  createCertificateAuthority,
  issueDeviceCertificate,
  type KeyAndCertificate,
} from '../../core/certificates/issue';
import { JITP_SAMPLE_REGISTRATION_CONFIG } from '../core/provisioning/aws-samples';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- templates under test are edited as free-form JSON
type Json = Record<string, any>;

/** Every IoTClient, including the CLI's own, answers from this mock. */
const iot = mockClient(IoTClient);
const ARN = 'arn:aws:iot:us-east-1:123456789012';

const modeOf = (path: string) => statSync(path).mode & 0o777;

let dir: string;
let ca: KeyAndCertificate;
let device: { certificatePem: string };

beforeAll(async () => {
  ca = await createCertificateAuthority({ subject: { CN: 'Provisioning Test CA' } });
  device = await issueDeviceCertificate({
    ca,
    subject: { CN: 'lightbulb-0042', serialNumber: 'SN42', C: 'US' },
  });
});

beforeEach(() => {
  iot.reset();
  dir = mkdtempSync(join(tmpdir(), 'fleetkit-provisioning-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return path;
}

const FLEET_TEMPLATE = {
  Parameters: { SerialNumber: { Type: 'String' }, Site: { Type: 'String', Default: 'berlin' } },
  Resources: {
    thing: {
      Type: 'AWS::IoT::Thing',
      Properties: {
        ThingName: { 'Fn::Join': ['-', ['sensor', { Ref: 'SerialNumber' }]] },
        AttributePayload: { serialNumber: { Ref: 'SerialNumber' } },
        ThingGroups: [{ 'Fn::Sub': 'site-${Site}' }],
      },
      OverrideSettings: { AttributePayload: 'MERGE', ThingGroups: 'REPLACE' },
    },
    certificate: {
      Type: 'AWS::IoT::Certificate',
      Properties: { CertificateId: { Ref: 'AWS::IoT::Certificate::Id' }, Status: 'ACTIVE' },
    },
    policy: { Type: 'AWS::IoT::Policy', Properties: { PolicyName: 'fleet-device' } },
  },
  DeviceConfiguration: { topicRoot: { 'Fn::Sub': 'things/sensor-${SerialNumber}' } },
};

describe('fleetkit template validate', () => {
  test('accepts the JITP page sample in its registration-config wrapper', async () => {
    const path = file('jitp.json', JITP_SAMPLE_REGISTRATION_CONFIG);
    const run = await fleetkit('template', 'validate', '--template', path, '--type', 'JITP');

    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      new RegExp(`^${path} is a valid JITP template \\(\\d+ of 10240 characters\\)\\.\\n$`),
    );
  });

  test('lists every error with its path and exits 1', async () => {
    const template = structuredClone(FLEET_TEMPLATE) as Json;
    template.Resources.thing.OverrideSettings.ThingTypeName = 'MERGE';
    template.Resources.policy.Properties.PolicyDocument = '{}';
    const path = file('fleet.json', template);

    const run = await fleetkit('template', 'validate', '--template', path, '--type', 'FLEET_PROVISIONING');

    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      `${path} is not a valid FLEET_PROVISIONING template: 2 error(s), 0 warning(s):`,
    );
    expect(run.stdout).toContain(
      '  error: Resources.policy.Properties: give PolicyName or PolicyDocument, not both: PolicyName attaches an existing policy [POLICY_NAME_AND_DOCUMENT]',
    );
    expect(run.stdout).toContain(
      '  error: Resources.thing.OverrideSettings.ThingTypeName: MERGE is not allowed',
    );
  });

  test('checks the type the template is for: a fleet template is not a JITP template', async () => {
    const run = await fleetkit(
      'template',
      'validate',
      '--template',
      file('fleet.json', FLEET_TEMPLATE),
      '--type',
      'jitp',
      '--json',
    );
    const output = JSON.parse(run.stdout) as {
      valid: boolean;
      type: string;
      problems: { rule: string; path: string }[];
    };

    expect(run.code).toBe(1);
    expect(output.valid).toBe(false);
    expect(output.type).toBe('JITP');
    expect(output.problems.map((p) => [p.rule, p.path])).toEqual(
      expect.arrayContaining([
        ['SECTION_NOT_ALLOWED', 'DeviceConfiguration'],
        ['UNKNOWN_JITP_PARAMETER', 'Parameters.SerialNumber'],
      ]),
    );
  });

  test.each([
    [['--type', 'JITP'], 'Missing required option --template.'],
    [
      ['--template', 'x.json', '--type', 'CUSTOM'],
      '--type must be one of JITP, FLEET_PROVISIONING, BULK_REGISTRATION; got "CUSTOM".',
    ],
  ])('is a usage error (exit 2) with %j', async (args, message) => {
    const run = await fleetkit('template', 'validate', ...args);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
  });

  test('reports a file that is not JSON on one line, exit 1', async () => {
    const path = file('broken.json', '{"Resources": ');
    const run = await fleetkit('template', 'validate', '--template', path, '--type', 'JITP');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`^fleetkit: error: ${path} is not JSON: .*\\n$`));
  });
});

describe('fleetkit template dry-run', () => {
  test('JITP: what AWS IoT would provision for a device certificate', async () => {
    const template = file('jitp.json', JITP_SAMPLE_REGISTRATION_CONFIG);
    const cert = file('device.pem', device.certificatePem);
    const id = inspectCertificate(device.certificatePem).certificateId;

    const run = await fleetkit('template', 'dry-run', '--template', template, '--cert', cert);

    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      [
        'Provisioning would succeed (JITP).',
        '  Thing          lightbulb-0042 (created)',
        '  Thing type     lightBulb-versionA',
        '  Attributes     version=v1, serialNumber=SN42',
        '  Thing groups   v1-lightbulbs, US',
        `  Certificate    ${id} ACTIVE, attached to lightbulb-0042`,
        '  Policies       policy (created from its document)',
      ].join('\n'),
    );
  });

  test('JITP: a certificate without a declared field fails, silently on AWS, and exits 1', async () => {
    const bare = await issueDeviceCertificate({
      ca,
      subject: { CN: 'lightbulb-0043', serialNumber: 'SN43' },
    });
    const run = await fleetkit(
      'template',
      'dry-run',
      '--template',
      file('jitp.json', JITP_SAMPLE_REGISTRATION_CONFIG),
      '--cert',
      file('bare.pem', bare.certificatePem),
    );

    expect(run.code).toBe(1);
    expect(run.stdout).toContain('Provisioning would FAIL (JITP): MISSING_PARAMETER');
    expect(run.stdout).toContain('  at      Parameters["AWS::IoT::Certificate::Country"]');
    expect(run.stdout).toContain('  effect  JITP fails silently: the certificate stays PENDING_ACTIVATION');
  });

  test('fleet: parameters, hook overrides and an existing thing', async () => {
    const existing = file('thing.json', {
      thingName: 'sensor-SN1',
      thingTypeName: 'edge',
      attributes: { firmware: '1.0' },
      thingGroups: ['site-austin'],
    });
    const run = await fleetkit(
      'template',
      'dry-run',
      '--template',
      file('fleet.json', FLEET_TEMPLATE),
      '--parameters',
      'SerialNumber=SN1,Site=austin',
      '--overrides',
      'Site=berlin',
      '--certificate-id',
      'c'.repeat(64),
      '--existing-thing',
      existing,
    );

    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      [
        'Provisioning would succeed (FLEET_PROVISIONING).',
        '  Thing          sensor-SN1 (existing, updated)',
        '  Thing type     edge',
        '  Attributes     firmware=1.0, serialNumber=SN1',
        '  Thing groups   site-berlin',
        `  Certificate    ${'c'.repeat(64)} ACTIVE, attached to sensor-SN1`,
        '  Policies       fleet-device (existing)',
        '  Device config  {"topicRoot":"things/sensor-SN1"}',
      ].join('\n'),
    );
  });

  test('fleet: parameters from a file, JSON output, and a failure exits 1', async () => {
    const parameters = file('parameters.json', { Site: 'berlin' });
    const run = await fleetkit(
      'template',
      'dry-run',
      '--template',
      file('fleet.json', FLEET_TEMPLATE),
      '--parameters-file',
      parameters,
      '--json',
    );
    const result = JSON.parse(run.stdout) as { outcome: string; code: string; path: string };

    expect(run.code).toBe(1);
    expect(result).toEqual(
      expect.objectContaining({
        outcome: 'FAILED',
        code: 'MISSING_PARAMETER',
        path: 'Resources.thing.Properties.ThingName["Fn::Join"][1][1].Ref',
      }),
    );
  });

  test.each([
    [[], 'Give exactly one of --cert, --parameters and --parameters-file.'],
    [
      ['--cert', 'd.pem', '--parameters', 'a=b'],
      'Give exactly one of --cert, --parameters and --parameters-file; got --cert and --parameters.',
    ],
    [
      ['--parameters', 'SerialNumber'],
      '--parameters takes NAME=VALUE pairs separated by ","; got "SerialNumber".',
    ],
    [['--parameters', 'a=b', '--type', 'JITP'], 'A JITP template takes its parameters from --cert FILE.'],
  ])('is a usage error (exit 2) with %j', async (args, message) => {
    const run = await fleetkit(
      'template',
      'dry-run',
      '--template',
      file('fleet.json', FLEET_TEMPLATE),
      ...args,
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
  });
});

describe('fleetkit provisioning claim', () => {
  test('asks for a claim for the template and writes it, key 0600, with its expiry', async () => {
    const claim = await issueDeviceCertificate({ ca, subject: { CN: 'claim' } });
    const expiration = new Date('2026-06-01T12:05:00Z');
    iot.on(CreateProvisioningClaimCommand).resolves({
      certificateId: 'd'.repeat(64),
      certificatePem: claim.certificatePem,
      keyPair: { PrivateKey: claim.privateKeyPem, PublicKey: 'public' },
      expiration,
    });
    const command = createProvisioningClaimCommand(
      { iot: () => new IoTClient({}) },
      () => new Date('2026-06-01T12:00:00Z'),
    );
    let stdout = '';
    const code = await command.run(['--template-name', 'sensor-fleet', '--out-dir', dir], {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: () => true },
    });

    expect(code).toBe(0);
    expect(iot).toHaveReceivedCommandTimes(CreateProvisioningClaimCommand, 1);
    expect(iot).toHaveReceivedCommandWith(CreateProvisioningClaimCommand, { templateName: 'sensor-fleet' });
    expect(readFileSync(join(dir, 'sensor-fleet-claim.pem'), 'utf8')).toBe(claim.certificatePem);
    expect(readFileSync(join(dir, 'sensor-fleet-claim.key'), 'utf8')).toBe(claim.privateKeyPem);
    expect(modeOf(join(dir, 'sensor-fleet-claim.key'))).toBe(0o600);
    expect(stdout).toContain(`  certificate id  ${'d'.repeat(64)}`);
    expect(stdout).toContain('  expires         2026-06-01 12:05:00 UTC (5 minute(s) from now)');
    expect(stdout).toContain(
      'client ID that starts with the claim client-ID prefix (stack output ClaimClientIdPrefix',
    );
    expect(stdout).not.toContain('PRIVATE KEY');
  });

  test('refuses to overwrite files before asking AWS for a key it could not save', async () => {
    writeFileSync(join(dir, 'sensor-fleet-claim.key'), 'old');
    const run = await fleetkit('provisioning', 'claim', '--template-name', 'sensor-fleet', '--out-dir', dir);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      'sensor-fleet-claim.key already exists; refusing to overwrite it. Pass --force to replace it.',
    );
    expect(iot).not.toHaveReceivedCommand(CreateProvisioningClaimCommand);
  });

  test('reports an unknown template on one line', async () => {
    iot
      .on(CreateProvisioningClaimCommand)
      .rejects(new ResourceNotFoundException({ message: 'Template sensor-fleet not found', $metadata: {} }));
    const run = await fleetkit('provisioning', 'claim', '--template-name', 'sensor-fleet', '--out-dir', dir);

    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      'fleetkit: error: CreateProvisioningClaim failed: ResourceNotFoundException: Template sensor-fleet not found\n',
    );
    expect(existsSync(join(dir, 'sensor-fleet-claim.pem'))).toBe(false);
  });

  test('refuses a template name AWS IoT does not accept (exit 2)', async () => {
    const run = await fleetkit('provisioning', 'claim', '--template-name', 'sensor fleet');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      `--template-name must be 1 to 36 of letters, digits, '_' and '-'; got "sensor fleet".`,
    );
  });
});

describe('fleetkit claim rotate', () => {
  test('creates the certificate inactive, saves it, attaches the claim policy, then activates it', async () => {
    const claim = await issueDeviceCertificate({ ca, subject: { CN: 'aws-claim' } });
    const id = 'e'.repeat(64);
    iot.on(CreateKeysAndCertificateCommand).resolves({
      certificateId: id,
      certificateArn: `${ARN}:cert/${id}`,
      certificatePem: claim.certificatePem,
      keyPair: { PrivateKey: claim.privateKeyPem, PublicKey: 'public' },
    });
    iot.on(AttachPolicyCommand).resolves({});
    iot.on(UpdateCertificateCommand).resolves({});

    const run = await fleetkit('claim', 'rotate', '--policy-name', 'fleet-claim', '--out-dir', dir);

    expect(run.code).toBe(0);
    const calls = iot.calls().map((c) => [c.args[0].constructor.name, c.args[0].input]);
    expect(calls).toEqual([
      ['CreateKeysAndCertificateCommand', { setAsActive: false }],
      ['AttachPolicyCommand', { policyName: 'fleet-claim', target: `${ARN}:cert/${id}` }],
      ['UpdateCertificateCommand', { certificateId: id, newStatus: 'ACTIVE' }],
    ]);
    expect(readFileSync(join(dir, 'claim.key'), 'utf8')).toBe(claim.privateKeyPem);
    expect(modeOf(join(dir, 'claim.key'))).toBe(0o600);
    expect(run.stdout).toContain(`New claim certificate ${id} (ACTIVE, policy fleet-claim, valid until `);
    expect(run.stdout).toContain('fleetkit claim revoke --certificate-id <old claim id>');
    expect(run.stdout).toContain(
      'Devices connect with it as <claim client-ID prefix><unique suffix>, e.g. <prefix>SN0001: the prefix is the\nstack output ClaimClientIdPrefix',
    );
  });

  test('with --ca-dir, issues locally and registers the certificate inactive', async () => {
    const caDir = join(dir, 'ca');
    writeKeyAndCertificate(caDir, 'ca', ca);
    const id = 'f'.repeat(64);
    iot.on(RegisterCertificateCommand).resolves({ certificateId: id, certificateArn: `${ARN}:cert/${id}` });
    iot.on(AttachPolicyCommand).resolves({});
    iot.on(UpdateCertificateCommand).resolves({});

    const run = await fleetkit(
      'claim',
      'rotate',
      '--policy-name',
      'fleet-claim',
      '--out-dir',
      dir,
      '--ca-dir',
      caDir,
      '--name',
      'claim-2026',
      '--days',
      '30',
    );

    expect(run.code).toBe(0);
    const pem = readFileSync(join(dir, 'claim-2026.pem'), 'utf8');
    expect(inspectCertificate(pem).subject.CN).toBe('claim-2026');
    expect(iot).toHaveReceivedCommandWith(RegisterCertificateCommand, {
      certificatePem: pem,
      caCertificatePem: ca.certificatePem,
      status: 'INACTIVE',
    });
    expect(iot).toHaveReceivedCommandWith(UpdateCertificateCommand, {
      certificateId: id,
      newStatus: 'ACTIVE',
    });
  });

  test('leaves the certificate inactive, its key saved, when the policy cannot be attached', async () => {
    const claim = await issueDeviceCertificate({ ca, subject: { CN: 'aws-claim' } });
    const id = 'e'.repeat(64);
    iot.on(CreateKeysAndCertificateCommand).resolves({
      certificateId: id,
      certificateArn: `${ARN}:cert/${id}`,
      certificatePem: claim.certificatePem,
      keyPair: { PrivateKey: claim.privateKeyPem },
    });
    iot
      .on(AttachPolicyCommand)
      .rejects(new ResourceNotFoundException({ message: 'Policy not found', $metadata: {} }));

    const run = await fleetkit('claim', 'rotate', '--policy-name', 'fleet-claim', '--out-dir', dir);

    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      'fleetkit: error: AttachPolicy failed: ResourceNotFoundException: Policy not found\n',
    );
    expect(existsSync(join(dir, 'claim.key'))).toBe(true);
    expect(iot).not.toHaveReceivedCommand(UpdateCertificateCommand);
  });

  test('is a usage error to give --days without --ca-dir', async () => {
    const run = await fleetkit('claim', 'rotate', '--policy-name', 'fleet-claim', '--days', '30');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--days applies only with --ca-dir');
  });
});

describe('fleetkit claim revoke', () => {
  const id = 'a'.repeat(64);
  const arn = `${ARN}:cert/${id}`;

  function claimCertificate(status: CertificateStatus, things: string[] = []) {
    iot
      .on(DescribeCertificateCommand)
      .resolves({ certificateDescription: { certificateId: id, certificateArn: arn, status } });
    iot.on(ListPrincipalThingsCommand).resolves({ things });
    iot.on(ListAttachedPoliciesCommand).resolves({ policies: [{ policyName: 'fleet-claim' }] });
    iot.on(UpdateCertificateCommand).resolves({});
  }

  test('checks it is a claim, then revokes it', async () => {
    claimCertificate('ACTIVE');
    const run = await fleetkit('claim', 'revoke', '--certificate-id', id);

    expect(run.code).toBe(0);
    expect(iot).toHaveReceivedCommandWith(DescribeCertificateCommand, { certificateId: id });
    expect(iot).toHaveReceivedCommandWith(ListPrincipalThingsCommand, { principal: arn, maxResults: 25 });
    expect(iot).toHaveReceivedCommandWith(ListAttachedPoliciesCommand, { target: arn });
    expect(iot).toHaveReceivedCommandWith(UpdateCertificateCommand, {
      certificateId: id,
      newStatus: 'REVOKED',
    });
    expect(run.stdout).toContain(`Claim certificate ${id}: ACTIVE -> REVOKED`);
    expect(run.stdout).toContain('  policies   fleet-claim (left attached)');
  });

  test('with --inactive, deactivates it and says how to undo', async () => {
    claimCertificate('ACTIVE');
    const run = await fleetkit('claim', 'revoke', '--certificate-id', id, '--inactive');

    expect(iot).toHaveReceivedCommandWith(UpdateCertificateCommand, {
      certificateId: id,
      newStatus: 'INACTIVE',
    });
    expect(run.stdout).toContain(`aws iot update-certificate --certificate-id ${id} --new-status ACTIVE`);
  });

  test('refuses a certificate attached to a thing, unless forced', async () => {
    claimCertificate('ACTIVE', ['sensor-0001']);
    const refused = await fleetkit('claim', 'revoke', '--certificate-id', id);

    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      'is attached to the thing sensor-0001: it looks like a device certificate, not a claim.',
    );
    expect(iot).not.toHaveReceivedCommand(UpdateCertificateCommand);

    const forced = await fleetkit('claim', 'revoke', '--certificate-id', id, '--force');
    expect(forced.code).toBe(0);
    expect(iot).toHaveReceivedCommandWith(UpdateCertificateCommand, {
      certificateId: id,
      newStatus: 'REVOKED',
    });
  });

  test('changes nothing when it is already revoked', async () => {
    claimCertificate('REVOKED');
    const run = await fleetkit('claim', 'revoke', '--certificate-id', id);

    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`Claim certificate ${id} is already REVOKED; nothing changed.\n`);
    expect(iot).not.toHaveReceivedCommand(UpdateCertificateCommand);
  });

  test('reports AWS errors on one line', async () => {
    iot
      .on(DescribeCertificateCommand)
      .rejects(new InvalidRequestException({ message: 'bad id', $metadata: {} }));
    const run = await fleetkit('claim', 'revoke', '--certificate-id', id);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('fleetkit: error: DescribeCertificate failed: InvalidRequestException: bad id\n');
  });

  test('refuses an ID that is not one (exit 2)', async () => {
    const run = await fleetkit('claim', 'revoke', '--certificate-id', 'abc');
    expect(run.code).toBe(2);
    expect(iot.calls()).toHaveLength(0);
  });
});
