import { devicePolicyDocument } from '../../core/device-policy';
import { claimPolicyDocument } from '../../core/provisioning/claim-policy';
import {
  compilePolicy,
  evaluatePolicies,
  globMatches,
  PolicyDocumentError,
  type PolicyContext,
} from '../../runtime/front/policy';

const PREFIX = 'arn:aws:iot:us-east-1:123456789012:';
const arn = (kind: string, name: string) => `${PREFIX}${kind}/${name}`;
const device = compilePolicy('device', devicePolicyDocument(arn));
const claim = compilePolicy('claim', claimPolicyDocument(arn, ['fleet'], 'fleet.claim.'));

const attached: PolicyContext = {
  clientId: 'sensor-1',
  certificateId: 'c'.repeat(64),
  thingName: 'sensor-1',
  arnPrefix: PREFIX,
};
const unattached: PolicyContext = { clientId: 'sensor-1', certificateId: 'c'.repeat(64), arnPrefix: PREFIX };

describe("Fleetkit's device policy", () => {
  it.each([
    ['iot:Connect', 'sensor-1', attached, true],
    ['iot:Connect', 'sensor-1', unattached, false],
    ['iot:Publish', 'things/sensor-1/telemetry', attached, true],
    ['iot:Publish', 'things/sensor-2/telemetry', attached, false],
    ['iot:Publish', '$aws/things/sensor-1/shadow/update', attached, true],
    ['iot:Publish', '$aws/things/sensor-2/shadow/update', attached, false],
    ['iot:Subscribe', '$aws/things/sensor-1/jobs/notify-next', attached, true],
    ['iot:Subscribe', '$aws/things/+/jobs/notify-next', attached, false],
    ['iot:Subscribe', '#', attached, false],
    ['iot:Receive', 'things/sensor-1/commands', attached, true],
  ] as const)('%s %s (thing attached: %s) → %s', (action, name, context, allowed) => {
    expect(evaluatePolicies([device], action, name, context).allowed).toBe(allowed);
  });
});

describe("Fleetkit's claim policy", () => {
  const context: PolicyContext = {
    clientId: 'fleet.claim.SN-1',
    certificateId: 'd'.repeat(64),
    arnPrefix: PREFIX,
  };
  it.each([
    ['iot:Connect', 'fleet.claim.SN-1', true],
    ['iot:Connect', 'sensor-1', false],
    ['iot:Publish', '$aws/certificates/create/json', true],
    ['iot:Publish', '$aws/certificates/create-from-csr/json', true],
    ['iot:Publish', '$aws/provisioning-templates/fleet/provision/json', true],
    ['iot:Publish', '$aws/provisioning-templates/other/provision/json', false],
    ['iot:Publish', 'things/sensor-1/telemetry', false],
    ['iot:Subscribe', '$aws/certificates/create/json/accepted', true],
    ['iot:Subscribe', '$aws/things/sensor-1/shadow/update/accepted', false],
  ] as const)('%s %s → %s', (action, name, allowed) => {
    expect(
      evaluatePolicies([claim], action, name, {
        ...context,
        clientId: action === 'iot:Connect' ? name : context.clientId,
      }).allowed,
    ).toBe(allowed);
  });
});

describe('evaluatePolicies', () => {
  it('lets an explicit Deny win over an Allow', () => {
    const deny = compilePolicy('deny', {
      Statement: { Effect: 'Deny', Action: 'iot:Publish', Resource: `${PREFIX}topic/things/sensor-1/secret` },
    });
    expect(evaluatePolicies([device, deny], 'iot:Publish', 'things/sensor-1/secret', attached)).toEqual({
      allowed: false,
      reason: 'EXPLICIT_DENY',
      policy: 'deny',
    });
  });

  it('does not let a client ID with wildcards widen a resource', () => {
    const policy = compilePolicy('p', {
      Statement: [{ Effect: 'Allow', Action: 'iot:Connect', Resource: `${PREFIX}client/\${iot:ClientId}` }],
    });
    const context = { ...unattached, clientId: 'a*' };
    expect(evaluatePolicies([policy], 'iot:Connect', 'a*', context).allowed).toBe(true);
    expect(evaluatePolicies([policy], 'iot:Connect', 'abc', context).allowed).toBe(false);
  });

  it('lets an Allow with an unknown condition not apply, and a Deny with one apply (fail closed)', () => {
    const allow = compilePolicy('allow', {
      Statement: {
        Effect: 'Allow',
        Action: 'iot:*',
        Resource: '*',
        Condition: { DateGreaterThan: { 'aws:CurrentTime': '2020' } },
      },
    });
    expect(evaluatePolicies([allow], 'iot:Connect', 'sensor-1', attached).allowed).toBe(false);
    const deny = compilePolicy('deny', {
      Statement: {
        Effect: 'Deny',
        Action: 'iot:*',
        Resource: '*',
        Condition: { DateGreaterThan: { 'aws:CurrentTime': '2020' } },
      },
    });
    expect(evaluatePolicies([device, deny], 'iot:Connect', 'sensor-1', attached).allowed).toBe(false);
  });

  it('refuses everything without a policy', () => {
    expect(evaluatePolicies([], 'iot:Connect', 'sensor-1', attached)).toEqual({
      allowed: false,
      reason: 'NO_ALLOW',
    });
  });
});

describe('globMatches', () => {
  it.each([
    ['a*', 'a/b/c', true],
    ['a?c', 'abc', true],
    ['a?c', 'abbc', false],
    ['$aws/things/x/*', '$aws/things/x/shadow/update', true],
    ['things/+/x', 'things/+/x', true],
    ['things/+/x', 'things/y/x', false],
  ])('%s ~ %s → %s', (pattern, value, expected) => {
    expect(globMatches(pattern, value)).toBe(expected);
  });
});

it('compilePolicy fails on a document without statements', () => {
  expect(() => compilePolicy('broken', '{"Version":"2012-10-17"}')).toThrow(PolicyDocumentError);
  expect(() => compilePolicy('broken', 'not json')).toThrow(/broken is not JSON/);
});
