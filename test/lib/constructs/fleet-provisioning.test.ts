import { Match, Template } from 'aws-cdk-lib/assertions';
import { fleetProvisioningTemplate, ref } from '../../../core/provisioning';
import { FleetProvisioning } from '../../../lib/constructs/fleet-provisioning';
import { logicalIdAt, statementsOf, testStack } from './support';

describe('FleetProvisioning', () => {
  const props = () => ({
    templateName: 'fleet-provisioning',
    templateBody: fleetProvisioningTemplate({
      parameters: { SerialNumber: {}, ThingGroupName: { default: 'unassigned' } },
      thing: { thingName: ref('SerialNumber'), thingGroups: [ref('ThingGroupName')] },
      policyName: 'fleet-device',
    }),
    allowListTableName: 'fleet-provisioning-allow-list',
    serialNumberParameter: 'SerialNumber',
    parameterOverrides: {
      group: { parameter: 'ThingGroupName', allowedValues: ['unassigned', 'site-berlin'] },
    },
  });

  test('creates the template with its hook, which AWS IoT may invoke for this template only', () => {
    const stack = testStack();
    new FleetProvisioning(stack, 'FleetProvisioning', props());
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::IoT::ProvisioningTemplate', {
      TemplateName: 'fleet-provisioning',
      TemplateType: 'FLEET_PROVISIONING',
      Enabled: true,
      PreProvisioningHook: {
        TargetArn: { 'Fn::GetAtt': [logicalIdAt('FleetProvisioning', 'Hook', 'Resource'), 'Arn'] },
        PayloadVersion: '2020-04-01',
      },
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'iot.amazonaws.com',
      SourceAccount: { Ref: 'AWS::AccountId' },
      SourceArn: { 'Fn::Join': ['', Match.arrayWith([':provisioningtemplate/fleet-provisioning'])] },
    });
  });

  test('the provisioning role may add things only to the groups the hook may choose', () => {
    const stack = testStack();
    new FleetProvisioning(stack, 'FleetProvisioning', props());
    const join = statementsOf(Template.fromStack(stack), /ProvisioningRole/).find(
      (statement) => statement.Sid === 'JoinThingGroups',
    )!;
    const groups = [...JSON.stringify(join.Resource).matchAll(/:thinggroup\/([^"]+)"/g)].map((m) => m[1]);
    expect(groups).toEqual(['unassigned', 'site-berlin']);
  });
});
