import { auditTrailContract } from '../../core/contracts/audit-trail';
import type { LifecycleKind } from '../../core/events/lifecycle';
import { ConfigurationError } from './errors';

/** The audit trail function's settings, read from its environment once per container. */
export interface AuditTrailConfig {
  readonly tableName: string;
  readonly retentionDays: number;
  readonly eventBusName?: string;
  readonly forwardedKinds: readonly LifecycleKind[];
  readonly fleetName: string;
  readonly sdkMaxAttempts: number;
}

/**
 * Reads and validates the environment with the function's contract (core/contracts/audit-trail.ts).
 *
 * @throws ConfigurationError naming each bad variable.
 */
export function readAuditTrailConfig(env: NodeJS.ProcessEnv = process.env): AuditTrailConfig {
  const decoded = auditTrailContract.decode(env);
  if (!decoded.ok) throw new ConfigurationError(decoded.problems.join('; '));
  return decoded.settings;
}
