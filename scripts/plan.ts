/**
 * `npm run plan`: synthesizes the fleet from its configuration and prints what `cdk deploy` would create: the
 * same validation, bundling, cdk-nag checks and templates as a deploy, with a readable summary instead of AWS
 * calls. (`npm start` runs the fleet on the local runtime: scripts/start.ts.)
 *
 * Usage: npm run plan [-- --config <file>] [-- --out <dir>]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { App } from 'aws-cdk-lib';
import { IOT_API_RATES_PER_SECOND } from '../core/limits';
import { FleetConfigError, loadFleetConfigFile } from '../lib/config/load';
import { groupPolicySummary } from '../lib/config/organization';
import { defineFleetStacks } from '../lib/fleet-app';

interface Template {
  Resources?: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
}

function main(): number {
  const { values } = parseArgs({
    options: {
      config: { type: 'string', default: 'fleet.config.ts' },
      out: { type: 'string', default: 'cdk.out' },
    },
  });
  const configFile = values.config!;
  let resolved;
  try {
    resolved = loadFleetConfigFile(configFile);
  } catch (error) {
    if (error instanceof FleetConfigError) {
      console.error(error.message);
      return 1;
    }
    throw error;
  }
  const { config } = resolved;
  console.log(`Fleet "${config.name}" from ${configFile}: synthesizing (no AWS credentials needed)...`);
  const app = new App({ outdir: values.out! });
  defineFleetStacks(app, resolved);
  const assembly = app.synth();

  for (const stack of assembly.stacks) {
    const template = JSON.parse(fs.readFileSync(stack.templateFullPath, 'utf8')) as Template;
    const counts = new Map<string, number>();
    for (const resource of Object.values(template.Resources ?? {})) {
      counts.set(resource.Type, (counts.get(resource.Type) ?? 0) + 1);
    }
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    console.log(
      `\nStack ${stack.stackName} (${total} resources, ${path.relative(process.cwd(), stack.templateFullPath)})`,
    );
    for (const [type, count] of [...counts.entries()].sort())
      console.log(`  ${String(count).padStart(3)}  ${type}`);
  }

  console.log('\nCertificate authorities');
  for (const ca of resolved.certificateAuthorities) {
    console.log(
      `  ${ca.name}: ${ca.mode}, onboarding ${ca.onboarding}, certificate ID ${ca.certificate.certificateId}, expires ${ca.certificate.notAfter.toISOString().slice(0, 10)}`,
    );
  }
  const groupPolicies = groupPolicySummary(config);
  if (groupPolicies.length > 0) {
    console.log('\nGroup policies (inherited by every device below the group)');
    for (const line of groupPolicies) console.log(`  ${line}`);
  }
  const rules = config.onboarding;
  console.log('\nOnboarding (JITR)');
  console.log(
    `  thing name   <- ${rules.thingName.field}${rules.thingName.pattern ? ` matching /${rules.thingName.pattern}/` : ''}`,
  );
  console.log(`  thing type   ${rules.thingTypeName ?? '(none)'}`);
  const attributes = Object.entries(rules.attributes);
  console.log(
    `  attributes   ${attributes.length ? attributes.map(([k, v]) => `${k} <- ${v}`).join(', ') : '(none)'}`,
  );
  console.log(
    `  group        ${rules.groupRules.map((r) => `${r.thingGroupName} if ${r.field}=${r.equals}`).join('; ') || '-'}; else ${rules.thingGroupName ?? '(none)'}`,
  );
  console.log(
    `  keys         EC ${rules.keyPolicy.ecCurves.join('/')}${rules.keyPolicy.rsaMinimumBits ? `, RSA >= ${rules.keyPolicy.rsaMinimumBits}` : ', no RSA'}`,
  );
  console.log(`  allow-list   ${rules.requireAllowList ? 'required (DynamoDB)' : 'off'}`);
  const ceiling = Math.min(
    IOT_API_RATES_PER_SECOND.DescribeCertificate.value,
    IOT_API_RATES_PER_SECOND.UpdateCertificate.value,
  );
  console.log(
    `  throughput   batch ${config.jitr.batchSize}, concurrency ${config.jitr.maxConcurrency}, ${config.jitr.maxReceiveCount} deliveries then dead-letter; ceiling at default quotas ~${ceiling} devices/s`,
  );
  console.log(
    `\nTemplates are in ${values.out}. To deploy to the account and region of your AWS credentials:`,
  );
  console.log('  npx cdk bootstrap   # once per account and region');
  console.log('  npx cdk deploy --all');
  return 0;
}

process.exitCode = main();
