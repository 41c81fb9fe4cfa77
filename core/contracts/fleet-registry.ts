/**
 * The registry provider's contract with the construct that deploys it (lambda/fleet-registry/,
 * lib/constructs/registry-provider.ts). The resources it applies carry their own properties
 * (core/registry/custom-resources.ts); its environment carries only how it calls AWS.
 */
import { FLEETKIT_SERVICES } from '../metrics';
import { sdkMaxAttempts } from './common';
import { defineContract } from './contract';

/** The registry provider functions' settings and their variables. */
export const fleetRegistryContract = defineContract({
  functionName: 'fleet-registry',
  service: FLEETKIT_SERVICES.registry,
  variables: { sdkMaxAttempts },
});
