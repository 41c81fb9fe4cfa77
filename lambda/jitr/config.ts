import { onboardingRulesSchema, type OnboardingRules } from '../../core/onboarding/rules';
import { readSdkMaxAttempts } from '../../core/aws-client-config';
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
 * Reads and validates the environment the JITR pipeline construct sets.
 *
 * @throws ConfigurationError naming the variable and what is wrong with it.
 */
export function readJitrConfig(env: NodeJS.ProcessEnv = process.env): JitrConfig {
  const required = (name: string): string => {
    const value = env[name];
    if (value === undefined || value === '') throw new ConfigurationError(`${name} is not set`);
    return value;
  };
  const ids = required('FLEETKIT_CA_CERTIFICATE_IDS')
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id !== '');
  let rules: OnboardingRules;
  try {
    rules = onboardingRulesSchema.parse(JSON.parse(required('FLEETKIT_ONBOARDING_RULES')));
  } catch (error) {
    if (error instanceof ConfigurationError) throw error;
    throw new ConfigurationError(`FLEETKIT_ONBOARDING_RULES is invalid: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const attempts = readSdkMaxAttempts(
    env.FLEETKIT_SDK_MAX_ATTEMPTS,
    (message) => new ConfigurationError(message),
  );
  const allowListTableName = env.FLEETKIT_ALLOW_LIST_TABLE || undefined;
  if (rules.requireAllowList && allowListTableName === undefined) {
    throw new ConfigurationError(
      'the onboarding rules require an allow-list but FLEETKIT_ALLOW_LIST_TABLE is not set',
    );
  }
  const queueUrlOf = (name: string): string | undefined => {
    const value = env[name] || undefined;
    if (value !== undefined && !/^https?:\/\/\S+$/.test(value)) {
      throw new ConfigurationError(`${name} must be an SQS queue URL, got "${value}"`);
    }
    return value;
  };
  const deadLetterQueueUrl = queueUrlOf('FLEETKIT_DEAD_LETTER_QUEUE_URL');
  const queueUrl = queueUrlOf('FLEETKIT_QUEUE_URL');
  return {
    caCertificateIds: new Set(ids),
    devicePolicyName: required('FLEETKIT_DEVICE_POLICY_NAME'),
    rules,
    sdkMaxAttempts: attempts,
    ...(allowListTableName !== undefined && { allowListTableName }),
    ...(deadLetterQueueUrl !== undefined && { deadLetterQueueUrl }),
    ...(queueUrl !== undefined && { queueUrl }),
  };
}
