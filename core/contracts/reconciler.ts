/**
 * The reconciler's contract with the construct that deploys it (lambda/reconciler/, lib/constructs/reconciler.ts):
 * the CAs whose certificates it reconciles, when a pending certificate counts as stuck, and whether it acts.
 */
import { z } from 'zod';
import { FLEETKIT_SERVICES } from '../metrics';
import { sdkMaxAttempts } from './common';
import { defineContract, integer, integerRange, list, variable } from './contract';

/** Hours a certificate may stay PENDING_ACTIVATION: Fleetkit's own bounds (an hour to a year). */
export const PENDING_ACTIVATION_MAX_AGE_HOURS = { min: 1, max: 8760, default: 336 } as const;

/** The reconciler's settings and their variables. */
export const reconcilerContract = defineContract({
  functionName: 'reconciler',
  service: FLEETKIT_SERVICES.reconciler,
  variables: {
    /** The fleet's CAs: only certificates they issued are reconciled. */
    caCertificateIds: list(
      'FLEETKIT_CA_CERTIFICATE_IDS',
      z
        .array(z.string().regex(/^[0-9a-f]{64}$/, { message: 'must be 64 lower-case hex characters' }))
        .min(1, { message: 'lists no CA certificate ID' }),
    ),
    /** A certificate PENDING_ACTIVATION longer than this is stuck and revoked. */
    pendingActivationMaxAgeHours: integer(
      'FLEETKIT_PENDING_ACTIVATION_MAX_AGE_HOURS',
      integerRange(PENDING_ACTIVATION_MAX_AGE_HOURS.min, PENDING_ACTIVATION_MAX_AGE_HOURS.max).default(
        PENDING_ACTIVATION_MAX_AGE_HOURS.default,
      ),
    ),
    /** Revoke what it finds (`false`: report only). */
    revoke: variable({
      name: 'FLEETKIT_RECONCILE_REVOKE',
      schema: z.boolean().default(true),
      read: (text) => (text === 'true' ? true : text === 'false' ? false : text),
    }),
    sdkMaxAttempts,
  },
});
