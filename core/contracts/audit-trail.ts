/**
 * The audit trail function's contract with the construct that deploys it (lambda/audit-trail/,
 * lib/constructs/audit-trail.ts): the table it writes, how long entries are kept, and which entries it forwards
 * to which EventBridge bus.
 */
import { z } from 'zod';
import { AUDIT_TRAIL_RETENTION_DAYS } from '../events/audit-trail';
import { LIFECYCLE_KINDS } from '../events/lifecycle';
import { FLEETKIT_SERVICES } from '../metrics';
import { sdkMaxAttempts } from './common';
import { defineContract, integer, integerRange, list, text } from './contract';

/** The audit trail function's settings and their variables. */
export const auditTrailContract = defineContract({
  functionName: 'audit-trail',
  service: FLEETKIT_SERVICES.auditTrail,
  variables: {
    /** The audit trail table (fixed name `<fleet>-audit-trail`). */
    tableName: text('FLEETKIT_AUDIT_TRAIL_TABLE', z.string().min(1)),
    /** Days an entry is kept, counted from the event. */
    retentionDays: integer(
      'FLEETKIT_AUDIT_TRAIL_RETENTION_DAYS',
      integerRange(AUDIT_TRAIL_RETENTION_DAYS.min, AUDIT_TRAIL_RETENTION_DAYS.max).default(
        AUDIT_TRAIL_RETENTION_DAYS.default,
      ),
    ),
    /** The bus lifecycle events go to (`default` or a bus name). @default - nothing is forwarded */
    eventBusName: text('FLEETKIT_EVENT_BUS_NAME', z.string().min(1).optional()),
    /** The kinds of entry forwarded to the bus. */
    forwardedKinds: list('FLEETKIT_FORWARDED_KINDS', z.array(z.enum(LIFECYCLE_KINDS)).default([])),
    /** The fleet's name, in each forwarded event's detail. */
    fleetName: text('FLEETKIT_FLEET_NAME', z.string().min(1)),
    sdkMaxAttempts,
  },
  refine: (settings, ctx) => {
    if (settings.forwardedKinds.length > 0 && settings.eventBusName === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['eventBusName'],
        message: 'must be set: entries are to be forwarded',
      });
    }
  },
});
