/**
 * Every function's contract (core/contracts/<function>.ts): one per function, used by both sides, and the only
 * place its variable names are written.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { auditTrailContract } from '../../../core/contracts/audit-trail';
import { caExpiryContract } from '../../../core/contracts/ca-expiry';
import type { FunctionContract } from '../../../core/contracts/contract';
import { fleetRegistryContract } from '../../../core/contracts/fleet-registry';
import { jitrContract } from '../../../core/contracts/jitr';
import { preProvisioningHookContract } from '../../../core/contracts/pre-provisioning-hook';
import { rolloutContract } from '../../../core/contracts/rollout';
import { reconcilerContract } from '../../../core/contracts/reconciler';
import { onboardingRulesSchema } from '../../../core/onboarding/rules';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const CA_ID = 'a'.repeat(64);

/** Each contract with settings a construct would give it, and what its function reads back. */
const cases: [FunctionContract, object, object][] = [
  [
    jitrContract,
    {
      caCertificateIds: [CA_ID],
      devicePolicyName: 'fleet-device',
      onboardingRules: { requireAllowList: true },
      allowListTableName: 'fleet-allow-list',
      queueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/jitr',
    },
    {
      caCertificateIds: [CA_ID],
      devicePolicyName: 'fleet-device',
      onboardingRules: onboardingRulesSchema.parse({ requireAllowList: true }),
      sdkMaxAttempts: 8,
      allowListTableName: 'fleet-allow-list',
      queueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/jitr',
    },
  ],
  [
    preProvisioningHookContract,
    { tableName: 'fleet-provisioning-allow-list', parameterOverrides: { site: 'Site' } },
    {
      tableName: 'fleet-provisioning-allow-list',
      serialNumberParameter: 'SerialNumber',
      parameterOverrides: { site: { parameter: 'Site' } },
      lookupTimeoutMs: 3000,
      reprovisioning: 'deny',
    },
  ],
  [
    caExpiryContract,
    { certificateAuthorities: [{ name: 'root', caCertificateId: CA_ID }] },
    { certificateAuthorities: [{ name: 'root', caCertificateId: CA_ID }], sdkMaxAttempts: 8 },
  ],
  [fleetRegistryContract, {}, { sdkMaxAttempts: 8 }],
  [
    rolloutContract,
    { jobTemplateIds: ['acme_update_0123abcd'], rolloutIdPrefix: 'acme-' },
    { jobTemplateIds: ['acme_update_0123abcd'], rolloutIdPrefix: 'acme-', sdkMaxAttempts: 8 },
  ],
  [
    auditTrailContract,
    {
      tableName: 'fleet-audit-trail',
      retentionDays: 30,
      eventBusName: 'default',
      forwardedKinds: ['CREATED', 'CERTIFICATE_REVOKED'],
      fleetName: 'fleet',
    },
    {
      tableName: 'fleet-audit-trail',
      retentionDays: 30,
      eventBusName: 'default',
      forwardedKinds: ['CREATED', 'CERTIFICATE_REVOKED'],
      fleetName: 'fleet',
      sdkMaxAttempts: 8,
    },
  ],
  [
    reconcilerContract,
    { caCertificateIds: [CA_ID], revoke: false },
    { caCertificateIds: [CA_ID], pendingActivationMaxAgeHours: 336, revoke: false, sdkMaxAttempts: 8 },
  ],
];
const contracts = cases.map(([contract]) => contract);

describe.each(
  cases.map(([contract, given, read]) => [contract.functionName, contract, given, read] as const),
)('the %s contract', (_name, contract, given, read) => {
  test('its function reads back what its construct sets, defaults applied once', () => {
    expect(contract.decode(contract.encode(given as never))).toEqual({ ok: true, settings: read });
  });

  test('names a function folder, whose config.ts decodes with it', () => {
    const config = fs.readFileSync(path.join(ROOT, 'lambda', contract.functionName, 'config.ts'), 'utf8');
    expect(config).toContain(`from '../../core/contracts/${contract.functionName}'`);
    expect(config).toMatch(/Contract\.decode\(env\)/);
  });

  test('names its variables FLEETKIT_<SETTING>, each once', () => {
    const names = Object.values(contract.names) as string[];
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^FLEETKIT_[A-Z0-9_]+$/);
  });
});

test('every function has a contract', () => {
  const functions = fs
    .readdirSync(path.join(ROOT, 'lambda'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  expect(contracts.map((contract) => contract.functionName).sort()).toEqual(functions);
});

/** Source files of the repository, outside node_modules and synthesis output. */
function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      return ['node_modules', 'cdk.out', '.git'].includes(entry.name) || entry.name.startsWith('cdk.out')
        ? []
        : sourceFiles(full);
    }
    return /\.(ts|js|mjs|cjs)$/.test(entry.name) ? [full] : [];
  });
}

test('no variable name is written outside core/contracts/: both sides name settings through the contract', () => {
  const names = new Set(contracts.flatMap((contract) => Object.values(contract.names) as string[]));
  const contractsDir = path.join(ROOT, 'core', 'contracts') + path.sep;
  const offenders = sourceFiles(ROOT)
    .filter((file) => !file.startsWith(contractsDir))
    .flatMap((file) =>
      [...fs.readFileSync(file, 'utf8').matchAll(/FLEETKIT_[A-Z0-9_]+/g)]
        .filter((match) => names.has(match[0]))
        .map((match) => `${path.relative(ROOT, file)}: ${match[0]}`),
    );
  expect(offenders).toEqual([]);
});
