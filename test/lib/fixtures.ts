import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { PRIVATE_KEY_PEM } from '../../core/certificates/pem';
import { runCfnLint } from '../../tools/cfn-lint';
import {
  createCertificateAuthority,
  issueDeviceCertificate,
  issueVerificationCertificate,
} from '../../core/certificates/issue';
import { FleetConfigError, resolveFleetConfig, type ResolvedFleetConfig } from '../../lib/config/load';
import type { FleetConfigInput } from '../../lib/config/schema';
import { defineFleetStacks, type FleetStacks } from '../../lib/fleet-app';

/** A directory with a CA certificate, its verification certificate, a device certificate and a PEM with a key. */
export interface CaFiles {
  readonly dir: string;
  readonly caPem: string;
}

/**
 * Writes the files a configuration references: `ca.pem`, `verification.pem` (signed by the CA), `other-ca.pem`,
 * `foreign-verification.pem` (signed by another CA), `device.pem` (not a CA), `with-key.pem` (a certificate
 * followed by a private key, which must be refused) and `chain.pem` (two CA certificates).
 */
export async function caFiles(): Promise<CaFiles> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetkit-config-'));
  const ca = await createCertificateAuthority({ subject: { CN: 'Config Test CA' } });
  const other = await createCertificateAuthority({ subject: { CN: 'Other CA' } });
  const verification = await issueVerificationCertificate({ ca, registrationCode: 'a1b2c3' });
  const foreign = await issueVerificationCertificate({ ca: other, registrationCode: 'a1b2c3' });
  const device = await issueDeviceCertificate({ ca, subject: { CN: 'device-1' } });
  fs.writeFileSync(path.join(dir, 'ca.pem'), ca.certificatePem);
  fs.writeFileSync(path.join(dir, 'other-ca.pem'), other.certificatePem);
  fs.writeFileSync(path.join(dir, 'verification.pem'), verification.certificatePem);
  fs.writeFileSync(path.join(dir, 'foreign-verification.pem'), foreign.certificatePem);
  fs.writeFileSync(path.join(dir, 'device.pem'), device.certificatePem);
  fs.writeFileSync(path.join(dir, 'with-key.pem'), ca.certificatePem + ca.privateKeyPem);
  fs.writeFileSync(path.join(dir, 'chain.pem'), ca.certificatePem + other.certificatePem);
  return { dir, caPem: ca.certificatePem };
}

/** A small valid configuration over {@link caFiles}. */
export function baseConfig(overrides: Partial<FleetConfigInput> = {}): FleetConfigInput {
  return {
    name: 'test-fleet',
    certificateAuthorities: [
      {
        name: 'factory',
        certificateFile: 'ca.pem',
        verificationCertificateFile: 'verification.pem',
        mode: 'DEFAULT',
      },
    ],
    thingTypes: { sensor: { searchableAttributes: ['serialNumber'] } },
    thingGroups: {
      fleet: { children: { unassigned: {}, 'site-berlin': { attributes: { city: 'Berlin' } } } },
    },
    onboarding: {
      thingTypeName: 'sensor',
      attributes: { serialNumber: 'SerialNumber' },
      thingGroupName: 'unassigned',
      groupRules: [{ field: 'OrganizationalUnit', equals: 'berlin', thingGroupName: 'site-berlin' }],
    },
    ...overrides,
  };
}

/**
 * {@link baseConfig} with an organization: two thing types (one deprecated), a group policy attached at two
 * levels beside the device policy, fleet indexing with a custom field, a dynamic group and two fleet metrics.
 */
export function organizedConfig(overrides: Partial<FleetConfigInput> = {}): FleetConfigInput {
  return baseConfig({
    thingTypes: {
      sensor: { description: 'Sensors', searchableAttributes: ['serialNumber'] },
      'lamp-v1': { deprecated: true },
    },
    iotPolicies: {
      telemetry: {
        statements: [
          { actions: ['iot:Publish'], resources: ['topic/telemetry/${iot:Connection.Thing.ThingName}'] },
        ],
      },
    },
    thingGroups: {
      fleet: {
        policies: ['telemetry'],
        children: {
          unassigned: {},
          'site-berlin': { policies: ['device', 'telemetry'], attributes: { city: 'Berlin' } },
        },
      },
    },
    fleetIndexing: {
      thingIndexingMode: 'REGISTRY_AND_SHADOW',
      thingConnectivityIndexingMode: 'STATUS',
      customFields: [{ name: 'attributes.batteryLevel', type: 'Number' }],
    },
    dynamicGroups: { 'low-battery': { query: 'attributes.batteryLevel<20', description: 'Needs a visit' } },
    fleetMetrics: {
      connected: {
        query: 'thingName:*',
        aggregationType: 'Cardinality',
        aggregationField: 'connectivity.connected',
      },
      battery: {
        query: 'thingName:*',
        aggregationType: 'Statistics',
        aggregationField: 'attributes.batteryLevel',
        periodSeconds: 600,
      },
    },
    ...overrides,
  });
}

/** A CA onboarded by JITP (SNI_ONLY) and a CA whose key is held in KMS, onboarding nothing, over {@link caFiles}. */
export const JITP_AND_KMS_CAS = [
  { name: 'jitp', certificateFile: 'ca.pem', mode: 'SNI_ONLY', onboarding: 'JITP' },
  {
    name: 'kms',
    certificateFile: 'other-ca.pem',
    kmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    onboarding: 'NONE',
  },
] as const satisfies FleetConfigInput['certificateAuthorities'];

/** Resolves a configuration against the files in `dir`. */
export function resolve(dir: string, config: unknown): ResolvedFleetConfig {
  return resolveFleetConfig(config, { source: 'test.config.ts', baseDir: dir });
}

/** The problems a configuration is refused with, one line each, or none when it resolves. */
export function problemsOf(dir: string, config: unknown): string[] {
  try {
    resolve(dir, config);
  } catch (error) {
    if (error instanceof FleetConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

/**
 * Defines the fleet's stacks in a fresh app. Unless `full` is set, Lambda bundling and CDK's built-in
 * CloudFormation validation are skipped to keep assertion tests fast; test/lib/synth.test.ts runs both.
 */
export function synthFleet(
  dir: string,
  config: unknown,
  options: { full?: boolean; outdir?: string } = {},
): FleetStacks & { app: App } {
  const app = new App({
    ...(options.outdir !== undefined && { outdir: options.outdir }),
    builtinCloudFormationValidation: options.full === true,
    context: {
      ...(options.full ? {} : { 'aws:cdk:bundling-stacks': [] }),
      '@aws-cdk/core:defaultCrossStackReferences': 'strong',
    },
  });
  return { app, ...defineFleetStacks(app, resolve(dir, config)) };
}

/** Every problem synthesis reports for `config` (resolved against the files in `dir`), or none. */
export function configProblems(dir: string, config: unknown): string[] {
  try {
    resolve(dir, config);
    return [];
  } catch (error) {
    if (error instanceof FleetConfigError) return [...error.problems];
    throw error;
  }
}

/** An ARN in the deploying account and region as a stack formats it (`Stack.formatArn`), e.g. `iot`, `cert/*`. */
export function stackArn(service: string, resource: string): unknown {
  return {
    'Fn::Join': [
      '',
      [
        'arn:',
        { Ref: 'AWS::Partition' },
        `:${service}:`,
        { Ref: 'AWS::Region' },
        ':',
        { Ref: 'AWS::AccountId' },
        `:${resource}`,
      ],
    ],
  };
}

/** cdk-nag AwsSolutions findings in `app` that no acknowledgement covers, one line each (rule at resources). */
export function nagViolations(app: App): string[] {
  const report = new AwsSolutionsChecks(app).validateScope(app);
  return report.violations.map(
    (v) =>
      `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath ?? r.resourceLogicalId).join(', ')}`,
  );
}

/** Files below `dir` (a cloud assembly, say) that contain private key material. */
export function filesWithPrivateKeys(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name))
    .filter((file) => PRIVATE_KEY_PEM.test(fs.readFileSync(file, 'utf8')));
}

/** cfn-lint's errors, one line each, over every template of a cloud assembly, and how many templates it read. */
export function lintAssembly(dir: string): { templates: number; errors: string[] } {
  const templates = fs
    .readdirSync(dir)
    .filter((file) => file.endsWith('.template.json'))
    .map((file) => path.join(dir, file));
  const { errors } = runCfnLint(templates);
  return {
    templates: templates.length,
    errors: errors.map((e) => `${e.ruleId} ${e.message} at ${e.path.join('.')}`),
  };
}
