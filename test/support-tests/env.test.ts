import { applyDefaults, INTEGRATION_ENV_DEFAULTS } from '../support/env-defaults';

describe('unit-env', () => {
  it('gives unit tests a fixed region, fake credentials and no endpoint or profile', () => {
    expect(process.env.AWS_REGION).toBe('us-east-1');
    expect(process.env.AWS_ACCESS_KEY_ID).toBe('testing');
    expect(process.env.AWS_SECRET_ACCESS_KEY).toBe('testing');
    expect(process.env.AWS_ENDPOINT_URL).toBeUndefined();
    expect(process.env.AWS_PROFILE).toBeUndefined();
    expect(process.env.POWERTOOLS_LOG_LEVEL).toBeTruthy();
  });
});

describe('applyDefaults', () => {
  it('sets only variables that are unset or empty', () => {
    const env: NodeJS.ProcessEnv = { AWS_REGION: 'eu-west-1', POWERTOOLS_LOG_LEVEL: '' };
    applyDefaults(INTEGRATION_ENV_DEFAULTS, env);
    expect(env).toEqual({
      AWS_REGION: 'eu-west-1',
      POWERTOOLS_METRICS_NAMESPACE: 'FleetkitTest',
      POWERTOOLS_SERVICE_NAME: 'fleetkit-test',
      POWERTOOLS_LOG_LEVEL: 'WARN',
    });
  });
});
