#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { FleetConfigError, loadFleetConfigFile } from '../lib/config/load';
import { defineFleetStacks } from '../lib/fleet-app';

// The configuration file comes from `-c config=<path>`, else fleet.config.ts at the project root.
const app = new App();
const file = (app.node.tryGetContext('config') as string | undefined) ?? 'fleet.config.ts';
try {
  defineFleetStacks(app, loadFleetConfigFile(file));
} catch (error) {
  if (error instanceof FleetConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
app.synth();
