import * as path from 'node:path';
import {
  jitrSettingsFromTemplate,
  JitrTemplateError,
  readDeployedJitrSettings,
} from '../../bench/deployed-settings';
import { ROOT } from '../../bench/paths';
import { jitrContract } from '../../core/contracts/jitr';

/** Settings the JITR construct would give its function. */
const JITR_SETTINGS = {
  caCertificateIds: ['a'.repeat(64)],
  devicePolicyName: 'fleet-device',
  onboardingRules: {},
} as const;

const template = (overrides: { mapping?: object; queue?: object; fn?: object } = {}) => ({
  Resources: {
    Queue: {
      Type: 'AWS::SQS::Queue',
      Properties: { VisibilityTimeout: 360, RedrivePolicy: { maxReceiveCount: 8 }, ...overrides.queue },
    },
    Fn: {
      Type: 'AWS::Lambda::Function',
      Properties: {
        Timeout: 60,
        Environment: { Variables: jitrContract.encode({ ...JITR_SETTINGS, sdkMaxAttempts: 8 }) },
        ...overrides.fn,
      },
    },
    Other: { Type: 'AWS::Lambda::Function', Properties: {} },
    Mapping: {
      Type: 'AWS::Lambda::EventSourceMapping',
      Properties: {
        FunctionName: { Ref: 'Fn' },
        EventSourceArn: { 'Fn::GetAtt': ['Queue', 'Arn'] },
        BatchSize: 5,
        ScalingConfig: { MaximumConcurrency: 2 },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ...overrides.mapping,
      },
    },
  },
});

describe('jitrSettingsFromTemplate', () => {
  test('reads the event source, queue and function settings of the JITR function', () => {
    expect(jitrSettingsFromTemplate(template(), 'onboarding.template.json')).toEqual({
      batchSize: 5,
      maxConcurrency: 2,
      reportBatchItemFailures: true,
      visibilityTimeoutSeconds: 360,
      maxReceiveCount: 8,
      functionTimeoutSeconds: 60,
      sdkMaxAttempts: 8,
      source: 'onboarding.template.json',
    });
  });

  test('applies the AWS defaults for a batch size and visibility timeout left out', () => {
    const t = template({ mapping: { BatchSize: undefined }, queue: { VisibilityTimeout: undefined } });
    expect(jitrSettingsFromTemplate(t, 'x')).toMatchObject({ batchSize: 10, visibilityTimeoutSeconds: 30 });
  });

  test('sees a mapping without partial batch responses', () => {
    expect(
      jitrSettingsFromTemplate(template({ mapping: { FunctionResponseTypes: [] } }), 'x')
        .reportBatchItemFailures,
    ).toBe(false);
  });

  test('fails when the template has no JITR event source, or no maximum concurrency', () => {
    expect(() => jitrSettingsFromTemplate({ Resources: {} }, 'empty')).toThrow(JitrTemplateError);
    expect(() => jitrSettingsFromTemplate(template({ mapping: { ScalingConfig: undefined } }), 'x')).toThrow(
      'ScalingConfig.MaximumConcurrency is undefined, not a number',
    );
  });
});

describe('readDeployedJitrSettings', () => {
  test('names its source relative to the repository root, whatever machine it runs on', async () => {
    const settings = await readDeployedJitrSettings(path.join(ROOT, 'fleet.config.ts'));

    expect(settings.source).toMatch(/^fleet\.config\.ts → [\w.-]+\.template\.json$/);
    expect(settings.source).not.toContain(ROOT);
  }, 120_000);
});
