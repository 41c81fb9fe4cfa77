/**
 * The staged rollout function's contract with the construct that deploys it (lambda/rollout/,
 * lib/constructs/staged-rollout.ts): which job templates it may create jobs from and which job IDs are its own.
 * Its role allows exactly these; the function checks them again before it calls AWS, so that a request outside
 * them fails with a clear message rather than an AccessDenied.
 */
import { z } from 'zod';
import { JOB_TEMPLATE_ID_PATTERN } from '../limits';
import { FLEETKIT_SERVICES } from '../metrics';
import { sdkMaxAttempts } from './common';
import { defineContract, list, text } from './contract';

/** The staged rollout function's settings and their variables. */
export const rolloutContract = defineContract({
  functionName: 'rollout',
  service: FLEETKIT_SERVICES.rollout,
  variables: {
    /** The fleet's job templates, by AWS ID: the only ones a rollout may use. */
    jobTemplateIds: list(
      'FLEETKIT_JOB_TEMPLATE_IDS',
      z
        .array(z.string().regex(JOB_TEMPLATE_ID_PATTERN, { message: 'must be a job template ID' }))
        .min(1, { message: 'lists no job template' }),
    ),
    /** Rollout IDs, and so the IDs of the jobs a rollout creates, start with this (`<fleet>-`). */
    rolloutIdPrefix: text(
      'FLEETKIT_ROLLOUT_ID_PREFIX',
      z.string().regex(/^[a-z][a-z0-9-]{1,31}-$/, { message: 'must be the fleet name followed by "-"' }),
    ),
    sdkMaxAttempts,
  },
});
