/**
 * A fleet configuration synthesized as `cdk deploy` would synthesize it and applied to a fresh local runtime, for
 * the applier's integration tests (runtime-apply*.test.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startLocalRuntime, type LocalRuntime } from '../../runtime';
import type { AppliedFleet } from '../../runtime/cloudformation/applier';
import { loadLocalFleetConfig, prepareLocalFleet, type LocalFleet } from '../../scripts/local-fleet';
import { resetTarget } from '../support/target';

/** The runtime, the prepared fleet and what the applier made of it. */
export interface AppliedExample {
  readonly runtime: LocalRuntime;
  readonly fleet: LocalFleet;
  readonly applied: AppliedFleet;
  /** Stops the runtime and removes the assembly and the state directory. */
  stop(): Promise<void>;
}

/** Starts a runtime on an empty integration target and applies `configFile` to it. */
export async function applyExample(configFile: string): Promise<AppliedExample> {
  await resetTarget();
  const stateDir = mkdtempSync(path.join(tmpdir(), 'fleetkit-apply-'));
  const runtime = await startLocalRuntime({ controlPlaneEndpoint: process.env.AWS_ENDPOINT_URL, stateDir });
  let fleet: LocalFleet | undefined;
  const stop = async () => {
    fleet?.cleanup();
    await runtime.stop();
    rmSync(stateDir, { recursive: true, force: true });
  };
  try {
    fleet = await prepareLocalFleet({
      configFile,
      registrationCode: runtime.registrationCode,
      stateDir,
      loaded: loadLocalFleetConfig(configFile),
    });
    const applied = await runtime.apply(fleet.assemblyDirectory);
    return { runtime, fleet, applied, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
