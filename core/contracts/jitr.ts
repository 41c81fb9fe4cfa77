/**
 * The JITR function's contract with the constructs that deploy it (lambda/jitr/, lib/constructs/jitr-*.ts): its
 * settings, how they travel in its environment, and the pipeline's throughput defaults, which the fleet
 * configuration and the constructs both take from here.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/auto-register-device-cert.html
 */
import { z } from 'zod';
import { FLEETKIT_SERVICES } from '../metrics';
import { onboardingRulesSchema } from '../onboarding/rules';
import { sdkMaxAttempts } from './common';
import { defineContract, json, list, text } from './contract';

/**
 * The JITR pipeline's defaults: registration events per invocation, concurrent invocations (at default quotas
 * DescribeCertificate and UpdateCertificate, 10 TPS each, bound onboarding near 10 devices per second, which two
 * invocations already reach), deliveries of one event before the dead-letter queue, and the function's timeout.
 */
export const JITR_DEFAULTS = {
  batchSize: 5,
  maxConcurrency: 2,
  maxReceiveCount: 8,
  functionTimeoutSeconds: 60,
} as const;

/**
 * How much longer than the function's timeout a message stays invisible once received: AWS recommends six times,
 * so that a batch is not delivered again while the function still works on it.
 * @see https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html
 */
export const JITR_VISIBILITY_TIMEOUT_FACTOR = 6;

const queueUrl = z.string().regex(/^https?:\/\/\S+$/, { message: 'must be an SQS queue URL' });

/** The JITR function's settings and their variables. */
export const jitrContract = defineContract({
  functionName: 'jitr',
  service: FLEETKIT_SERVICES.jitr,
  variables: {
    /** CA certificate IDs whose devices this function onboards (events of other CAs are ignored). */
    caCertificateIds: list(
      'FLEETKIT_CA_CERTIFICATE_IDS',
      z.array(z.string()).min(1, { message: 'lists no CA certificate ID' }),
    ),
    /** The shared device policy attached to every onboarded certificate. */
    devicePolicyName: text('FLEETKIT_DEVICE_POLICY_NAME', z.string().min(1)),
    /** How a certificate maps to a thing, and which certificates are acceptable. */
    onboardingRules: json('FLEETKIT_ONBOARDING_RULES', onboardingRulesSchema),
    sdkMaxAttempts,
    /** The allow-list table (thing names). @default - no allow-list */
    allowListTableName: text('FLEETKIT_ALLOW_LIST_TABLE', z.string().min(1).optional()),
    /**
     * Where permanent failures go at once, with their reason.
     * @default - permanent failures are retried until the queue's redrive policy moves them
     */
    deadLetterQueueUrl: text('FLEETKIT_DEAD_LETTER_QUEUE_URL', queueUrl.optional()),
    /** The JITR queue, to set the retry delay of failed records. @default - the visibility timeout applies */
    queueUrl: text('FLEETKIT_QUEUE_URL', queueUrl.optional()),
  },
  refine: (settings, ctx) => {
    if (settings.onboardingRules.requireAllowList && settings.allowListTableName === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['allowListTableName'],
        message: 'must be set: the onboarding rules require an allow-list',
      });
    }
  },
});
