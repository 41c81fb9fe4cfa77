import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CreateTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  CreatePolicyCommand,
  CreateThingGroupCommand,
  CreateThingTypeCommand,
  GetRegistrationCodeCommand,
  IoTClient,
  RegisterCACertificateCommand,
  RegisterCertificateCommand,
} from '@aws-sdk/client-iot';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSEvent } from 'aws-lambda';
import { devicePolicyDocument } from '../../core/device-policy';
import { ALLOW_LIST_KEY } from '../../core/onboarding/allow-list';
import type { OnboardingRulesInput } from '../../core/onboarding/rules';
import { fleetkitOk as fleetkit } from '../support/cli';
import {
  buildHandler,
  dependenciesFromEnvironment,
  type HandlerDependencies,
} from '../../lambda/jitr/handler';
import { registrationEventOfShape, type RegistrationEventShape } from '../../tools/registration-events';
import { clientConfig, uniqueName } from '../support/target';
import { jitrContract } from '../../core/contracts/jitr';

/**
 * A fleet set up in the integration target the way `cdk deploy` and a device's first connection would leave
 * it: a CA registered with its verification certificate, the device policy, a thing type and groups; device
 * certificates registered PENDING_ACTIVATION under the CA as AWS IoT's auto-registration does. Certificates
 * are made by the `fleetkit` CLI.
 */
export interface JitrFleet {
  readonly iot: IoTClient;
  readonly dynamo: DynamoDBClient;
  readonly sqs: SQSClient;
  /** The function's dead-letter queue, where it sets permanently failing events aside. */
  readonly deadLetterQueueUrl: string;
  readonly dir: string;
  readonly caCertificateId: string;
  /** A second managed CA (option `secondCa`). */
  readonly secondCaCertificateId?: string;
  readonly policyName: string;
  readonly thingTypeName: string;
  readonly groupName: string;
  /** A second static group that the `OrganizationalUnit=berlin` group rule picks. */
  readonly siteGroupName: string;
  readonly allowListTable?: string;
  /** The environment the JITR construct gives the function. */
  readonly env: NodeJS.ProcessEnv;
  /** Prefix of every thing name in this fleet, unique to the test run (targets without reset share state). */
  readonly prefix: string;
  /**
   * Issues a device certificate with the CLI for thing `<prefix>-<name>` and registers it PENDING_ACTIVATION,
   * from the first CA or (with option `secondCa`) the second.
   */
  device(name: string, extra?: string[], issuer?: 'first' | 'second'): Promise<Device>;
  /** Puts a thing name on the allow-list. */
  allow(thingName: string): Promise<void>;
  /** Handler dependencies read from `env`, as in Lambda; `rules` changes the onboarding rules (a redeploy). */
  dependencies(rules?: Partial<OnboardingRulesInput>): HandlerDependencies;
}

/** A device whose certificate is registered. */
export interface Device {
  readonly thingName: string;
  readonly certificateId: string;
  readonly certificateArn: string;
  /** The CA that issued it, and under which it is registered. */
  readonly caCertificateId: string;
}

export async function setUpJitrFleet(
  options: {
    allowList?: boolean;
    rules?: OnboardingRulesInput;
    /** Register a second CA, also managed by the pipeline. */
    secondCa?: boolean;
    /** Rules added to the default ones. */
    extraRules?: Partial<OnboardingRulesInput>;
  } = {},
): Promise<JitrFleet> {
  const config = clientConfig();
  const iot = new IoTClient({ ...config, maxAttempts: 3 });
  const dynamo = new DynamoDBClient({ ...config, maxAttempts: 3 });
  const sqs = new SQSClient({ ...config, maxAttempts: 3 });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetkit-jitr-it-'));
  const caDir = path.join(dir, 'ca');

  const cas = [await registerCa(iot, caDir, 'Fleetkit Integration CA')];
  if (options.secondCa) {
    cas.push(await registerCa(iot, path.join(dir, 'ca2'), 'Fleetkit Integration CA 2'));
  }
  const caCertificateId = cas[0]!.caCertificateId;

  const prefix = uniqueName('it');
  const policyName = uniqueName('device');
  const thingTypeName = uniqueName('sensor');
  const groupName = uniqueName('unassigned');
  const siteGroupName = uniqueName('site-berlin');
  const { policyArn } = await iot.send(
    new CreatePolicyCommand({
      policyName,
      policyDocument: JSON.stringify(
        devicePolicyDocument(
          (resource, name) => `arn:aws:iot:${config.region}:123456789012:${resource}/${name}`,
        ),
      ),
    }),
  );
  const account = policyArn!.split(':')[4]!;
  await iot.send(
    new CreateThingTypeCommand({
      thingTypeName,
      thingTypeProperties: { searchableAttributes: ['serialNumber'] },
    }),
  );
  await iot.send(new CreateThingGroupCommand({ thingGroupName: groupName }));
  await iot.send(new CreateThingGroupCommand({ thingGroupName: siteGroupName }));

  const { QueueUrl: deadLetterQueueUrl } = await sqs.send(
    new CreateQueueCommand({ QueueName: uniqueName('jitr-dlq') }),
  );

  let allowListTable: string | undefined;
  if (options.allowList) {
    allowListTable = uniqueName('allow-list');
    await dynamo.send(
      new CreateTableCommand({
        TableName: allowListTable,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: ALLOW_LIST_KEY, AttributeType: 'S' }],
        KeySchema: [{ AttributeName: ALLOW_LIST_KEY, KeyType: 'HASH' }],
      }),
    );
  }

  const rules: OnboardingRulesInput = options.rules ?? {
    thingTypeName,
    attributes: { serialNumber: 'SerialNumber' },
    thingGroupName: groupName,
    groupRules: [{ field: 'OrganizationalUnit', equals: 'berlin', thingGroupName: siteGroupName }],
    requireAllowList: options.allowList ?? false,
    ...options.extraRules,
  };
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...jitrContract.encode({
      caCertificateIds: cas.map((ca) => ca.caCertificateId),
      devicePolicyName: policyName,
      onboardingRules: rules,
      sdkMaxAttempts: 8,
      deadLetterQueueUrl: deadLetterQueueUrl!,
      ...(allowListTable !== undefined && { allowListTableName: allowListTable }),
    }),
  };

  let issued = 0;
  return {
    iot,
    dynamo,
    sqs,
    deadLetterQueueUrl: deadLetterQueueUrl!,
    dir,
    caCertificateId,
    ...(cas[1] !== undefined && { secondCaCertificateId: cas[1].caCertificateId }),
    policyName,
    thingTypeName,
    groupName,
    siteGroupName,
    ...(allowListTable !== undefined && { allowListTable }),
    env,
    prefix,
    async device(name, extra = [], issuer = 'first') {
      const ca = issuer === 'second' ? cas[1] : cas[0];
      if (ca === undefined) throw new Error('the fleet was set up without a second CA');
      const thingName = `${prefix}-${name}`;
      // One folder per certificate: a thing name can get a second one (rotation, takeover attempts).
      const out = path.join(dir, 'devices', String(issued++));
      await fleetkit(
        'device',
        'issue',
        '--ca-dir',
        ca.dir,
        '--thing-name',
        thingName,
        '--serial-number',
        `SN-${thingName}`,
        '--out-dir',
        out,
        ...extra,
      );
      const certificatePem = fs.readFileSync(path.join(out, `${thingName}.pem`), 'utf8');
      const registered = await iot.send(
        new RegisterCertificateCommand({
          certificatePem,
          caCertificatePem: ca.pem,
          status: 'PENDING_ACTIVATION',
        }),
      );
      expectArnInAccount(registered.certificateArn!, account);
      return {
        thingName,
        certificateId: registered.certificateId!,
        certificateArn: registered.certificateArn!,
        caCertificateId: ca.caCertificateId,
      };
    },
    async allow(thingName) {
      await dynamo.send(
        new PutItemCommand({ TableName: allowListTable!, Item: { [ALLOW_LIST_KEY]: { S: thingName } } }),
      );
    },
    dependencies(changed) {
      // The deployed wiring, with logs and metrics kept out of the test output (the unit tests assert them).
      process.env.POWERTOOLS_METRICS_DISABLED = 'true';
      const deployed =
        changed === undefined
          ? env
          : { ...env, [jitrContract.names.onboardingRules]: JSON.stringify({ ...rules, ...changed }) };
      return {
        ...dependenciesFromEnvironment(deployed),
        logger: new Logger({ serviceName: 'fleetkit-jitr', logLevel: 'CRITICAL' }),
      };
    },
  };
}

/** Creates a CA with the CLI in `caDir` and registers it with its verification certificate, auto-registration on. */
async function registerCa(
  iot: IoTClient,
  caDir: string,
  commonName: string,
): Promise<{ dir: string; pem: string; caCertificateId: string }> {
  await fleetkit('ca', 'create', '--out-dir', caDir, '--common-name', commonName);
  const { registrationCode } = await iot.send(new GetRegistrationCodeCommand({}));
  await fleetkit(
    'ca',
    'verification-cert',
    '--ca-dir',
    caDir,
    '--registration-code',
    registrationCode!,
    '--out-dir',
    caDir,
  );
  const pem = fs.readFileSync(path.join(caDir, 'ca.pem'), 'utf8');
  const { certificateId } = await iot.send(
    new RegisterCACertificateCommand({
      caCertificate: pem,
      verificationCertificate: fs.readFileSync(path.join(caDir, 'verification.pem'), 'utf8'),
      setAsActive: true,
      allowAutoRegistration: true,
    }),
  );
  return { dir: caDir, pem, caCertificateId: certificateId! };
}

function expectArnInAccount(arn: string, account: string): void {
  if (arn.split(':')[4] !== account) throw new Error(`${arn} is not in account ${account}`);
}

/**
 * The SQS event the queue delivers for registration events, one record each, in the documented shape unless an
 * event names its shape (see test/support/registration-events.ts).
 */
export function sqsEvent(
  ...events: { certificateId: string; caCertificateId: string; shape?: RegistrationEventShape }[]
): SQSEvent {
  return {
    Records: events.map(({ shape = 'documented', ...ids }, index) => ({
      messageId: `m-${index}-${ids.certificateId.slice(0, 8)}`,
      receiptHandle: `rh-${index}`,
      body: JSON.stringify(registrationEventOfShape(shape, ids)),
      attributes: { SentTimestamp: String(Date.now()) } as SQSEvent['Records'][number]['attributes'],
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:jitr',
      awsRegion: 'us-east-1',
    })),
  };
}

export const lambdaContext = { functionName: 'jitr', awsRequestId: 'it' } as Context;

export { buildHandler };
