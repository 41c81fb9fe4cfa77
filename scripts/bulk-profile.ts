/**
 * `npm run bulk-profile`: writes the bulk provisioning profile of a fleet configuration, the file
 * `fleetkit bulk prepare --profile` reads (the CLI never loads the configuration: it stands on core/ alone).
 *
 * The profile holds the manifest rules, who signs certificates and the bulk registration template, exactly as
 * synthesis derives them; write it again whenever `bulkProvisioning` (or a type, group or CA it uses) changes.
 *
 * Usage: npm run bulk-profile -- [--config fleet.config.ts] [--out <name>.bulk-profile.json]
 */
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { FleetConfigError, loadFleetConfigFile } from '../lib/config/load';

function main(): number {
  const { values } = parseArgs({
    options: { config: { type: 'string', default: 'fleet.config.ts' }, out: { type: 'string' } },
  });
  let resolved;
  try {
    resolved = loadFleetConfigFile(values.config!, { lock: false });
  } catch (error) {
    if (error instanceof FleetConfigError) {
      console.error(error.message);
      return 1;
    }
    throw error;
  }
  const profile = resolved.bulkProvisioningProfile;
  if (profile === undefined) {
    console.error(
      `${values.config}: bulk provisioning is off; set bulkProvisioning: { enabled: true } (docs/bulk.md).`,
    );
    return 1;
  }
  const out = values.out ?? `${resolved.config.name}.bulk-profile.json`;
  fs.writeFileSync(out, `${JSON.stringify(profile, null, 2)}\n`);
  console.log(
    `Wrote ${out}: ${profile.certificates === 'CSR' ? 'AWS IoT signs CSRs' : 'your CA signs'}, things named ` +
      `"${profile.thingNamePrefix}<serial number>" unless the manifest names them.`,
  );
  return 0;
}

process.exitCode = main();
