/**
 * The JITR pipeline's settings as deployed, read from the synthesized onboarding template rather than
 * restated: the queue's visibility timeout and maxReceiveCount, the event source's batch size, maximum
 * concurrency and partial batch responses, the function's timeout and SDK attempts.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repositoryPath } from './paths';
import { jitrContract } from '../core/contracts/jitr';

/** The JITR function's variable that carries its SDK attempts. */
const SDK_MAX_ATTEMPTS = jitrContract.names.sdkMaxAttempts;
import { FleetkitError } from '../core/errors';

/** What the storm needs to model the JITR path as deployed. */
export interface JitrSettings {
  readonly batchSize: number;
  readonly maxConcurrency: number;
  readonly reportBatchItemFailures: boolean;
  readonly visibilityTimeoutSeconds: number;
  readonly maxReceiveCount: number;
  readonly functionTimeoutSeconds: number;
  readonly sdkMaxAttempts: number;
  /** Where the values were read. */
  readonly source: string;
}

interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

/** Thrown when a template does not hold a JITR pipeline the bench can read. */
export class JitrTemplateError extends FleetkitError {
  override readonly name = 'JitrTemplateError';
}

/**
 * Reads the JITR settings from a synthesized template: the SQS event source mapping of a function whose
 * environment has the JITR contract's `sdkMaxAttempts` variable, its queue and that function.
 *
 * @throws JitrTemplateError naming what is missing.
 */
export function jitrSettingsFromTemplate(
  template: { Resources?: Record<string, CfnResource> },
  source: string,
): JitrSettings {
  const resources = template.Resources ?? {};
  const byId = (id: string | undefined) => (id === undefined ? undefined : resources[id]);
  for (const mapping of Object.values(resources)) {
    if (mapping.Type !== 'AWS::Lambda::EventSourceMapping') continue;
    const props = mapping.Properties ?? {};
    const functionId = refOf(props.FunctionName);
    const fn = byId(functionId);
    const variables = ((fn?.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)
      ?.Variables ?? {}) as Record<string, unknown>;
    if (fn?.Type !== 'AWS::Lambda::Function' || variables[SDK_MAX_ATTEMPTS] === undefined) continue;
    const queue = byId(getAttOf(props.EventSourceArn));
    if (queue?.Type !== 'AWS::SQS::Queue') {
      throw new JitrTemplateError(
        `${source}: the JITR event source mapping does not read an SQS queue of the template`,
      );
    }
    const redrive = queue.Properties?.RedrivePolicy as { maxReceiveCount?: unknown } | undefined;
    const concurrency = (props.ScalingConfig as { MaximumConcurrency?: unknown } | undefined)
      ?.MaximumConcurrency;
    return {
      // SQS event sources default to 10 records per batch.
      batchSize: numberOf(props.BatchSize ?? 10, 'BatchSize', source),
      maxConcurrency: numberOf(concurrency, 'ScalingConfig.MaximumConcurrency', source),
      reportBatchItemFailures:
        Array.isArray(props.FunctionResponseTypes) &&
        props.FunctionResponseTypes.includes('ReportBatchItemFailures'),
      // SQS defaults to 30 seconds; Lambda functions to 3.
      visibilityTimeoutSeconds: numberOf(
        queue.Properties?.VisibilityTimeout ?? 30,
        'VisibilityTimeout',
        source,
      ),
      maxReceiveCount: numberOf(redrive?.maxReceiveCount, 'RedrivePolicy.maxReceiveCount', source),
      functionTimeoutSeconds: numberOf(fn.Properties?.Timeout ?? 3, 'Timeout', source),
      sdkMaxAttempts: numberOf(variables[SDK_MAX_ATTEMPTS], SDK_MAX_ATTEMPTS, source),
      source,
    };
  }
  throw new JitrTemplateError(`${source}: no SQS event source mapping of the JITR function found`);
}

function refOf(value: unknown): string | undefined {
  const ref = (value as { Ref?: unknown } | undefined)?.Ref;
  return typeof ref === 'string' ? ref : undefined;
}

function getAttOf(value: unknown): string | undefined {
  const att = (value as { 'Fn::GetAtt'?: unknown } | undefined)?.['Fn::GetAtt'];
  return Array.isArray(att) && typeof att[0] === 'string' ? att[0] : undefined;
}

function numberOf(value: unknown, name: string, source: string): number {
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n)) {
    throw new JitrTemplateError(`${source}: ${name} is ${JSON.stringify(value)}, not a number`);
  }
  return n;
}

/**
 * Synthesizes a fleet configuration (Lambda bundling skipped) and reads the JITR settings of its onboarding
 * stack. The configuration's lock file is neither checked nor written.
 */
export async function readDeployedJitrSettings(configFile = 'fleet.config.ts'): Promise<JitrSettings> {
  // Loaded lazily: the CDK takes a few seconds to import and only this and the scale bench need it.
  const { App } = await import('aws-cdk-lib');
  const { loadFleetConfigFile } = await import('../lib/config/load');
  const { defineFleetStacks } = await import('../lib/fleet-app');
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetkit-bench-settings-'));
  try {
    const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
    const { onboarding } = defineFleetStacks(app, loadFleetConfigFile(configFile, { lock: false }));
    const assembly = app.synth();
    const artifact = assembly.getStackArtifact(onboarding.artifactId);
    return jitrSettingsFromTemplate(
      artifact.template as { Resources?: Record<string, CfnResource> },
      `${repositoryPath(configFile)} → ${artifact.templateFile}`,
    );
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}
