#!/usr/bin/env node
import { App, Errors } from 'aws-cdk-lib';
import { FleetConfigError, loadFleetConfigFile } from '../lib/config/load';
import { defineFleetStacks } from '../lib/fleet-app';

// The configuration file comes from `-c config=<path>`, else fleet.config.ts at the project root.
const app = new App();
const file = (app.node.tryGetContext('config') as string | undefined) ?? 'fleet.config.ts';
try {
  defineFleetStacks(app, loadFleetConfigFile(file));
  app.synth();
} catch (error) {
  // What the user can fix (the configuration, or a construct's props) is one clean line and exit 1; anything
  // else is a defect, and keeps its stack trace.
  if (error instanceof FleetConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  if (Errors.isValidationError(error)) {
    console.error(`Invalid ${error.constructPath ?? 'construct'}: ${error.message}`);
    process.exit(1);
  }
  throw error;
}
