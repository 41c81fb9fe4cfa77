import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { PROVISIONING_HOOK_METRICS } from '../../core/metrics';
import {
  dynamoAllowListReclaim,
  dynamoProvisioningAllowList,
  hookDynamoDbClient,
} from './allow-list-adapter';
import { hookIotClient, iotCertificateStatus } from './certificate-adapter';
import { readHookConfig } from './config';
import { decide, type DecisionDependencies, type DenyReason } from './decide';
import { parseHookEvent, type PreProvisioningHookResponse } from './schema';

/** What the handler is built from; tests pass their own. */
export interface HandlerDependencies extends DecisionDependencies {
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/** The answer to anything that is not an allowed request. */
const DENY: PreProvisioningHookResponse = { allowProvisioning: false };

/**
 * Builds the pre-provisioning hook: allows a RegisterThing request whose serial number is on the allow-list (and,
 * unless reprovisioning is allowed, not yet provisioned with another certificate), answering a value for every
 * parameter it decides, and denies everything else with a logged reason.
 *
 * Never throws: AWS IoT treats a failed invocation as a denial anyway, but then nothing says why.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/pre-provisioning-hook.html
 */
export function buildHandler(
  deps: HandlerDependencies,
): (event: unknown, context?: Context) => Promise<PreProvisioningHookResponse> {
  const deny = (
    reason: DenyReason,
    log: Logger,
    fields: Record<string, unknown>,
  ): PreProvisioningHookResponse => {
    deps.metrics.addMetric(PROVISIONING_HOOK_METRICS.denied, MetricUnit.Count, 1);
    const count = (metric: string) => deps.metrics.addMetric(metric, MetricUnit.Count, 1);
    if (reason === 'ALREADY_PROVISIONED') count(PROVISIONING_HOOK_METRICS.alreadyProvisioned);
    if (reason === 'PARAMETER_SET_BY_DEVICE') count(PROVISIONING_HOOK_METRICS.parameterFromDevice);
    if (reason === 'LOOKUP_FAILED' || reason === 'LOOKUP_TIMEOUT') {
      count(PROVISIONING_HOOK_METRICS.lookupFailed);
      log.error('provisioning denied: the allow-list could not be read', { reason, ...fields });
    } else if (reason === 'MISSING_OVERRIDE_VALUE' || reason === 'INVALID_OVERRIDE_VALUE') {
      // The operator's item is at fault, not the device: an error, counted for the alarm.
      count(PROVISIONING_HOOK_METRICS.invalidAllowListItem);
      log.error('provisioning denied: the allow-list item cannot decide a parameter', { reason, ...fields });
    } else {
      log.warn('provisioning denied', { reason, ...fields });
    }
    return DENY;
  };

  return async (event, context) => {
    let log = deps.logger.createChild({
      persistentKeys: context?.awsRequestId === undefined ? {} : { requestId: context.awsRequestId },
    });
    try {
      const parsed = parseHookEvent(event);
      if (!parsed.ok) return deny('MALFORMED_EVENT', log, { detail: parsed.reason });
      const { claimCertificateId, certificateId, templateArn, clientId, parameters } = parsed.event;
      log = log.createChild({ persistentKeys: { certificateId, claimCertificateId, templateArn, clientId } });
      const decision = await decide(parsed.event, deps);
      if (!decision.allow) {
        return deny(decision.reason, log, {
          detail: decision.detail,
          ...(decision.serialNumber !== undefined && { serialNumber: decision.serialNumber }),
          // Names only: parameter values are the device's and may be sensitive.
          parameterNames: Object.keys(parameters ?? {}),
          ...(decision.stamp !== undefined && { stamp: decision.stamp }),
          ...(decision.cause !== undefined && { error: decision.cause }),
        });
      }
      deps.metrics.addMetric(PROVISIONING_HOOK_METRICS.allowed, MetricUnit.Count, 1);
      if (decision.stamp?.outcome === 'RECLAIMED') {
        deps.metrics.addMetric(PROVISIONING_HOOK_METRICS.reclaimed, MetricUnit.Count, 1);
      }
      log.info('provisioning allowed', {
        serialNumber: decision.serialNumber,
        parameterOverrides: decision.parameterOverrides,
        ...(decision.stamp !== undefined && { stamp: decision.stamp }),
      });
      return { allowProvisioning: true, parameterOverrides: decision.parameterOverrides };
    } catch (error) {
      deps.metrics.addMetric(PROVISIONING_HOOK_METRICS.denied, MetricUnit.Count, 1);
      deps.metrics.addMetric(PROVISIONING_HOOK_METRICS.unexpectedError, MetricUnit.Count, 1);
      log.error('provisioning denied: unexpected error', {
        reason: 'UNEXPECTED_ERROR' satisfies DenyReason,
        error,
      });
      return DENY;
    } finally {
      try {
        deps.metrics.publishStoredMetrics();
      } catch (error) {
        log.error('could not publish metrics', { error });
      }
    }
  };
}

/**
 * The handler's dependencies as deployed: configuration from the environment and SDK clients with short
 * timeouts (endpoints from the SDK's usual settings, including `AWS_ENDPOINT_URL` for an emulator). In deny mode
 * the hook also reads certificate statuses from AWS IoT, to re-claim serial numbers whose provisioning never
 * finished.
 */
export function dependenciesFromEnvironment(env: NodeJS.ProcessEnv = process.env): HandlerDependencies {
  const config = readHookConfig(env);
  const dynamodb = hookDynamoDbClient();
  return {
    allowList: dynamoProvisioningAllowList(dynamodb, {
      tableName: config.tableName,
      parameterOverrides: config.parameterOverrides,
      reprovisioning: config.reprovisioning,
    }),
    ...(config.reprovisioning === 'deny' && {
      reclaiming: {
        certificateStatus: iotCertificateStatus(hookIotClient()),
        reclaim: dynamoAllowListReclaim(dynamodb, {
          tableName: config.tableName,
          parameterOverrides: config.parameterOverrides,
        }),
      },
    }),
    serialNumberParameter: config.serialNumberParameter,
    parameterOverrides: config.parameterOverrides,
    lookupTimeoutMs: config.lookupTimeoutMs,
    logger: new Logger(),
    metrics: new Metrics(),
  };
}

// Built once per container, on the first invocation, from the environment.
let built: ReturnType<typeof buildHandler> | undefined;

/**
 * The Lambda entry point. A configuration error denies every request, logged and counted (metric
 * `ConfigurationError`, which the stack alarms on), rather than failing them: AWS IoT would deny a failed
 * invocation anyway, with nothing to say why. The environment is read again at the next request.
 */
export const handler = async (event: unknown, context: Context): Promise<PreProvisioningHookResponse> => {
  if (built === undefined) {
    try {
      built = buildHandler(dependenciesFromEnvironment());
    } catch (error) {
      new Logger().error('provisioning denied: the function is misconfigured', {
        reason: 'CONFIGURATION_ERROR' satisfies DenyReason,
        error,
      });
      const metrics = new Metrics();
      try {
        metrics.addMetric(PROVISIONING_HOOK_METRICS.denied, MetricUnit.Count, 1);
        metrics.addMetric(PROVISIONING_HOOK_METRICS.configurationError, MetricUnit.Count, 1);
        metrics.publishStoredMetrics();
      } catch (metricsError) {
        new Logger().error('could not publish metrics', { error: metricsError });
      }
      return DENY;
    }
  }
  return built(event, context);
};
