import { jitrContract } from '../../core/contracts/jitr';
import type { OnboardingRules } from '../../core/onboarding/rules';
import { ConfigurationError } from './errors';

/** The JITR function's settings, read from its environment once per container. */
export interface JitrConfig {
  /** CA certificate IDs whose devices this function onboards. */
  readonly caCertificateIds: ReadonlySet<string>;
  readonly devicePolicyName: string;
  readonly rules: OnboardingRules;
  /** @default - no allow-list */
  readonly allowListTableName?: string;
  /** @default - permanent failures are retried until the queue's redrive policy moves them */
  readonly deadLetterQueueUrl?: string;
  /** The JITR queue, to set the retry delay of failed records. @default - the visibility timeout applies */
  readonly queueUrl?: string;
  readonly sdkMaxAttempts: number;
}

/**
 * Reads and validates the environment with the function's contract (core/contracts/jitr.ts).
 *
 * @throws ConfigurationError naming each variable and what is wrong with it.
 */
export function readJitrConfig(env: NodeJS.ProcessEnv = process.env): JitrConfig {
  const decoded = jitrContract.decode(env);
  if (!decoded.ok) throw new ConfigurationError(decoded.problems.join('; '));
  const { caCertificateIds, onboardingRules, allowListTableName, deadLetterQueueUrl, queueUrl, ...rest } =
    decoded.settings;
  return {
    ...rest,
    caCertificateIds: new Set(caCertificateIds),
    rules: onboardingRules,
    ...(allowListTableName !== undefined && { allowListTableName }),
    ...(deadLetterQueueUrl !== undefined && { deadLetterQueueUrl }),
    ...(queueUrl !== undefined && { queueUrl }),
  };
}
