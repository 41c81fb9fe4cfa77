import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { loadFleetConfigFile } from '../../lib/config/load';
import { defineFleetStacks } from '../../lib/fleet-app';
import {
  baseConfig,
  caFiles,
  JITP_AND_KMS_CAS,
  filesWithPrivateKeys,
  lintAssembly,
  nagViolations,
  synthFleet,
  type CaFiles,
} from './fixtures';
import { createCertificateAuthority } from '../../core/certificates/issue';
import { jitrContract } from '../../core/contracts/jitr';

/*
 * Full synthesis, as `cdk synth` does it: Lambda bundling with the local esbuild, CDK's built-in validation,
 * cdk-nag, then cfn-lint on every template.
 */

let files: CaFiles;
const outdirs: string[] = [];
const outdir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetkit-synth-'));
  outdirs.push(dir);
  return dir;
};

beforeAll(async () => {
  files = await caFiles();
});
afterAll(() => outdirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

/** The account and region of a configuration that sets `env`, as the README shows. */
const ENV = { account: '123456789012', region: 'eu-west-1' } as const;

/** A full synthesis of each configuration: as given (account and region left to CloudFormation), and with `env`. */
const configs: [string, (env?: typeof ENV) => App][] = [
  [
    'the shipped example',
    (env) => {
      const app = new App({ outdir: outdir() });
      const resolved = loadFleetConfigFile('fleet.config.ts');
      defineFleetStacks(app, env ? { ...resolved, config: { ...resolved.config, env } } : resolved);
      return app;
    },
  ],
  [
    'two CAs, an allow-list and an alarm e-mail',
    (env) =>
      synthFleet(
        files.dir,
        baseConfig({
          ...(env && { env }),
          certificateAuthorities: [
            { name: 'factory', certificateFile: 'ca.pem', verificationCertificateFile: 'verification.pem' },
            { name: 'partner', certificateFile: 'other-ca.pem', mode: 'SNI_ONLY' },
          ],
          onboarding: { ...baseConfig().onboarding, requireAllowList: true },
          jitr: { alarmEmail: 'ops@example.com' },
        }),
        { full: true, outdir: outdir() },
      ).app,
  ],
  [
    'JITP, a KMS-held CA, fleet provisioning and a large group tree with group policies',
    (env) =>
      synthFleet(
        files.dir,
        baseConfig({
          ...(env && { env }),
          certificateAuthorities: [...JITP_AND_KMS_CAS],
          onboarding: { thingTypeName: 'sensor', thingGroupName: 'unassigned' },
          fleetProvisioning: { enabled: true },
          iotPolicies: {
            telemetry: {
              statements: [
                {
                  actions: ['iot:Publish'],
                  resources: ['topic/telemetry/${iot:Connection.Thing.ThingName}'],
                },
              ],
            },
          },
          thingGroups: {
            unassigned: {},
            'site-berlin': {},
            // More than 20 groups with policies: the provider may attach to any group (an acknowledged wildcard).
            ...Object.fromEntries(
              Array.from({ length: 25 }, (_, a) => [
                `region-${a}`,
                {
                  policies: ['telemetry'],
                  children: Object.fromEntries(Array.from({ length: 10 }, (_, b) => [`site-${a}-${b}`, {}])),
                },
              ]),
            ),
          },
        }),
        { full: true, outdir: outdir() },
      ).app,
  ],
];

const cases = configs.flatMap(([title, build]) => [
  [title, () => build()] as const,
  [`${title}, with env (account ${ENV.account}, region ${ENV.region})`, () => build(ENV)] as const,
]);

describe.each(cases)('synthesizing %s', (_title, build) => {
  let assemblyDir: string;
  let app: App;
  beforeAll(() => {
    app = build();
    assemblyDir = app.synth().directory;
  }, 120_000);

  test('cdk-nag AwsSolutions reports no unacknowledged finding', () => {
    expect(nagViolations(app)).toEqual([]);
  });

  test('every acknowledgement is on a resource, not a stack or the app, and has a reason', () => {
    const templates = fs.readdirSync(assemblyDir).filter((f) => f.endsWith('.template.json'));
    let acknowledged = 0;
    for (const file of templates) {
      const template = JSON.parse(fs.readFileSync(path.join(assemblyDir, file), 'utf8'));
      expect(template.Metadata?.cdk_nag).toBeUndefined();
      for (const resource of Object.values(template.Resources) as {
        Metadata?: { cdk_nag?: { rules_to_suppress: { id: string; reason: string }[] } };
      }[]) {
        for (const rule of resource.Metadata?.cdk_nag?.rules_to_suppress ?? []) {
          acknowledged += 1;
          expect(rule.reason.length).toBeGreaterThan(20);
        }
      }
    }
    expect(acknowledged).toBeGreaterThan(0);
  });

  test('cfn-lint finds no error in any template', () => {
    const { templates, errors } = lintAssembly(assemblyDir);
    expect(templates).toBeGreaterThanOrEqual(2);
    expect(errors).toEqual([]);
  }, 120_000);

  test('no template, Lambda environment or bundle contains private key material', () => {
    expect(filesWithPrivateKeys(assemblyDir)).toEqual([]);
  });

  test('Fleetkit functions are bundled locally, minified with a source map', () => {
    const assets = fs.readdirSync(assemblyDir).filter((f) => f.startsWith('asset.'));
    // Fleetkit's own bundles; the CDK provider framework ships its own unbundled framework.js.
    const bundles = assets.filter(
      (a) =>
        fs.existsSync(path.join(assemblyDir, a, 'index.js')) &&
        !fs.existsSync(path.join(assemblyDir, a, 'framework.js')),
    );
    expect(bundles.length).toBeGreaterThanOrEqual(1);
    for (const bundle of bundles) {
      const dir = path.join(assemblyDir, bundle);
      expect(fs.existsSync(path.join(dir, 'index.js.map'))).toBe(true);
      const code = fs.readFileSync(path.join(dir, 'index.js'), 'utf8');
      // Minified: long lines (esbuild keeps a few newlines inside template literals).
      expect(code.length / code.split('\n').length).toBeGreaterThan(1000);
      expect(code).not.toContain('aws-cdk-lib');
    }
  });
});

/** `cdk synth` of `config`, written as a JSON configuration file in `dir`, as a user runs it. */
function cdkSynth(dir: string, config: object) {
  const file = path.join(dir, 'fleet.config.json');
  fs.writeFileSync(file, JSON.stringify(config));
  return spawnSync('npx', ['cdk', 'synth', '--quiet', '-o', path.join(dir, 'out'), '-c', `config=${file}`], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, CDK_DISABLE_VERSION_CHECK: 'true' },
  });
}

describe('cdk synth on an invalid configuration', () => {
  test('fails with the configuration path, the bad value and the allowed range', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetkit-bad-'));
    outdirs.push(dir);
    fs.copyFileSync(path.join(files.dir, 'ca.pem'), path.join(dir, 'ca.pem'));
    const config = {
      name: 'bad',
      certificateAuthorities: [{ name: 'x', certificateFile: 'ca.pem', mode: 'SNI_ONLY' }],
      jitr: { maxConcurrency: 5000 },
    };
    const run = cdkSynth(dir, config);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('Invalid fleet configuration');
    expect(run.stderr).toContain('jitr.maxConcurrency: got 5000; must be an integer from 2 to 1000');
  }, 120_000);
});

describe('cdk synth on a configuration a construct refuses', () => {
  // Each JITR CA adds its ID to the JITR function's environment: enough of them, with onboarding rules the
  // configuration accepts, exceed Lambda's 4 KB, which only the construct can tell.
  test('fails with one line naming the construct and the limit, and no stack trace', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetkit-construct-'));
    outdirs.push(dir);
    const cas = await Promise.all(
      Array.from({ length: 30 }, (_, index) =>
        createCertificateAuthority({ subject: { CN: `CA ${index}` } }),
      ),
    );
    cas.forEach((ca, index) => fs.writeFileSync(path.join(dir, `ca-${index}.pem`), ca.certificatePem));
    const sites = Array.from({ length: 20 }, (_, index) => `site-${index}`);
    const config = {
      name: 'big',
      certificateAuthorities: cas.map((_, index) => ({
        name: `ca-${index}`,
        certificateFile: `ca-${index}.pem`,
        mode: 'SNI_ONLY',
      })),
      thingGroups: Object.fromEntries(sites.map((site) => [site, {}])),
      onboarding: {
        groupRules: sites.map((site) => ({
          field: 'OrganizationalUnit',
          equals: site,
          thingGroupName: site,
        })),
      },
    };
    const run = cdkSynth(dir, config);
    expect(run.status).not.toBe(0);
    const line = run.stderr.split('\n').find((l) => l.startsWith('Invalid '));
    expect(line).toMatch(
      /^Invalid big-onboarding\/JitrConsumer\/Function: settings make an environment of about \d+ bytes; Lambda allows 4096 for all variables together \(https:\/\/docs\.aws\.amazon\.com\/lambda\/latest\/dg\/gettingstarted-limits\.html\): shorten the largest, /,
    );
    expect(line).toContain(`the largest, ${jitrContract.names.caCertificateIds} (`);
    expect(run.stderr).not.toMatch(/^\s+at /m);
  }, 120_000);
});
