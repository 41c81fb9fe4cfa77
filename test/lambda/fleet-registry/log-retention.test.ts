import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  DeleteRetentionPolicyCommand,
  DescribeLogGroupsCommand,
  PutRetentionPolicyCommand,
  ResourceAlreadyExistsException,
} from '@aws-sdk/client-cloudwatch-logs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { REGISTRY_RESOURCE_TYPES } from '../../../core/registry/custom-resources';
import { createEvent, deleteEvent, handlers, inputsOf, sentCommands, updateEvent } from './fixtures';

const logs = mockClient(CloudWatchLogsClient);
const TYPE = REGISTRY_RESOURCE_TYPES.logRetention;
const NAME = 'AWSIotLogsV2';
const properties = (retentionDays: number | string) => ({ logGroupName: NAME, retentionDays });

beforeEach(() => {
  logs.reset();
  logs.on(PutRetentionPolicyCommand).resolves({});
  logs.on(DeleteRetentionPolicyCommand).resolves({});
});

/** DescribeLogGroups answering a prefix search: the group (with `retention` days, or none) and a lookalike. */
const existing = (retention?: number) =>
  logs.on(DescribeLogGroupsCommand).resolves({
    logGroups: [
      { logGroupName: NAME, ...(retention !== undefined && { retentionInDays: retention }) },
      { logGroupName: `${NAME}-archive`, retentionInDays: 1 },
    ],
  });

describe('Custom::FleetkitLogRetention', () => {
  test('create adopts a group that exists, recording its retention, then sets the new one', async () => {
    existing(30);
    const response = await handlers().onEvent(createEvent(TYPE, 'IotLogs', properties('90')));
    expect(response).toEqual({
      PhysicalResourceId: `${NAME}|adopted:retention=30`,
      Data: { LogGroupName: NAME },
    });
    expect(inputsOf(logs, DescribeLogGroupsCommand)).toEqual([{ logGroupNamePrefix: NAME, limit: 50 }]);
    expect(inputsOf(logs, PutRetentionPolicyCommand)).toEqual([{ logGroupName: NAME, retentionInDays: 90 }]);
    expect(logs).not.toHaveReceivedCommand(CreateLogGroupCommand);
  });

  test('create records "never" for a group whose logs never expired', async () => {
    existing();
    const response = await handlers().onEvent(createEvent(TYPE, 'IotLogs', properties(90)));
    expect(response.PhysicalResourceId).toBe(`${NAME}|adopted:retention=never`);
  });

  test('create makes a group that does not exist; its physical ID records nothing adopted', async () => {
    logs.on(DescribeLogGroupsCommand).resolves({ logGroups: [{ logGroupName: `${NAME}-archive` }] });
    logs.on(CreateLogGroupCommand).resolves({});
    const response = await handlers().onEvent(createEvent(TYPE, 'IotLogs', properties(90)));
    expect(response.PhysicalResourceId).toBe(NAME);
    expect(sentCommands(logs)).toEqual([
      'DescribeLogGroupsCommand',
      'CreateLogGroupCommand',
      'PutRetentionPolicyCommand',
    ]);
  });

  test('create adopts a group AWS IoT made between the look and the create', async () => {
    logs.on(DescribeLogGroupsCommand).resolves({ logGroups: [] });
    logs
      .on(CreateLogGroupCommand)
      .rejects(new ResourceAlreadyExistsException({ message: 'exists', $metadata: {} }));
    const response = await handlers().onEvent(createEvent(TYPE, 'IotLogs', properties(90)));
    expect(response.PhysicalResourceId).toBe(`${NAME}|adopted:retention=never`);
    expect(inputsOf(logs, PutRetentionPolicyCommand)).toEqual([{ logGroupName: NAME, retentionInDays: 90 }]);
  });

  test('update sets the retention and keeps the physical ID', async () => {
    const id = `${NAME}|adopted:retention=30`;
    const response = await handlers().onEvent(
      updateEvent(TYPE, 'IotLogs', id, properties(365), properties(90)),
    );
    expect(response.PhysicalResourceId).toBe(id);
    expect(inputsOf(logs, PutRetentionPolicyCommand)).toEqual([{ logGroupName: NAME, retentionInDays: 365 }]);
  });

  test('delete gives an adopted group its retention back', async () => {
    existing(90);
    await handlers().onEvent(deleteEvent(TYPE, 'IotLogs', `${NAME}|adopted:retention=30`, properties(90)));
    expect(inputsOf(logs, PutRetentionPolicyCommand)).toEqual([{ logGroupName: NAME, retentionInDays: 30 }]);
  });

  test('delete gives an adopted group whose logs never expired no retention again', async () => {
    existing(90);
    await handlers().onEvent(deleteEvent(TYPE, 'IotLogs', `${NAME}|adopted:retention=never`, properties(90)));
    expect(inputsOf(logs, DeleteRetentionPolicyCommand)).toEqual([{ logGroupName: NAME }]);
  });

  test('delete leaves a group the stack created, with its logs and retention', async () => {
    await handlers().onEvent(deleteEvent(TYPE, 'IotLogs', NAME, properties(90)));
    expect(logs.calls()).toHaveLength(0);
  });

  test('fails on a retention CloudWatch Logs does not offer, listing the ones it does', async () => {
    await expect(handlers().onEvent(createEvent(TYPE, 'IotLogs', properties('45')))).rejects.toMatchObject({
      name: 'InvalidPropertiesError',
      message: expect.stringContaining(
        'ResourceProperties.retentionDays: must be one of the retention periods CloudWatch Logs offers: 1, 3, 5, 7, 14, 30, 60, 90',
      ),
    });
  });
});
