import {
  DeleteCertificateCommand,
  DescribeCertificateCommand,
  DescribeThingGroupCommand,
  IoTClient,
  ListAttachedPoliciesCommand,
  ListCertificatesByCACommand,
  ListPrincipalThingsCommand,
  ListThingPrincipalsCommand,
  ListThingsCommand,
  ResourceNotFoundException,
  ThrottlingException,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { iotCleanupRegistry, RegistryCallError } from '../../../core/reconcile/registry';

const iot = mockClient(IoTClient);
const registry = iotCleanupRegistry(new IoTClient({}));
const CA = 'c'.repeat(64);
const CERT = 'a'.repeat(64);
const ARN = `arn:aws:iot:eu-west-1:123456789012:cert/${CERT}`;

beforeEach(() => iot.reset());

describe('iotCleanupRegistry', () => {
  test('pages certificates of a CA at the largest page, passing the marker on', async () => {
    const created = new Date('2026-01-01T00:00:00Z');
    iot.on(ListCertificatesByCACommand).resolves({
      certificates: [
        { certificateId: CERT, certificateArn: ARN, status: 'PENDING_ACTIVATION', creationDate: created },
        // Incomplete entries (no ID) are skipped rather than guessed.
        { status: 'ACTIVE' },
      ],
      nextMarker: 'page-2',
    });
    const page = await registry.certificatesByCa(CA, 'page-1');
    expect(page).toEqual({
      items: [
        { certificateId: CERT, certificateArn: ARN, status: 'PENDING_ACTIVATION', creationDate: created },
      ],
      next: 'page-2',
    });
    expect(iot.commandCalls(ListCertificatesByCACommand)[0]!.args[0].input).toEqual({
      caCertificateId: CA,
      pageSize: 250,
      marker: 'page-1',
    });
  });

  test('follows ListPrincipalThings and ListThingPrincipals to their last page', async () => {
    iot
      .on(ListPrincipalThingsCommand, { principal: ARN, maxResults: 250, nextToken: undefined })
      .resolves({ things: ['a'], nextToken: 't2' })
      .on(ListPrincipalThingsCommand, { principal: ARN, maxResults: 250, nextToken: 't2' })
      .resolves({ things: ['b'] });
    iot
      .on(ListThingPrincipalsCommand, { thingName: 'a', maxResults: 250, nextToken: undefined })
      .resolves({ principals: [ARN], nextToken: 'n' })
      .on(ListThingPrincipalsCommand, { thingName: 'a', maxResults: 250, nextToken: 'n' })
      .resolves({ principals: [] });
    expect(await registry.principalThings(ARN)).toEqual(['a', 'b']);
    expect(await registry.thingPrincipals('a')).toEqual([ARN]);
    expect(iot.commandCalls(ListPrincipalThingsCommand)).toHaveLength(2);
    expect(iot.commandCalls(ListThingPrincipalsCommand)).toHaveLength(2);
  });

  test('lists things with their attributes, an absent attribute map as none', async () => {
    iot.on(ListThingsCommand).resolves({
      things: [{ thingName: 'a', attributes: { site: 'x' } }, { thingName: 'b' }],
      nextToken: 'n',
    });
    expect(await registry.things()).toEqual({
      items: [
        { thingName: 'a', attributes: { site: 'x' } },
        { thingName: 'b', attributes: {} },
      ],
      next: 'n',
    });
    expect(iot).toHaveReceivedCommandWith(ListThingsCommand, { maxResults: 250 });
  });

  test('sets a status with UpdateCertificate', async () => {
    iot.on(UpdateCertificateCommand).resolves({});
    await registry.setCertificateStatus(CERT, 'REVOKED');
    expect(iot.commandCalls(UpdateCertificateCommand)[0]!.args[0].input).toEqual({
      certificateId: CERT,
      newStatus: 'REVOKED',
    });
  });

  test('answers "gone" for a certificate or group that no longer exists', async () => {
    const notFound = new ResourceNotFoundException({ message: 'gone', $metadata: {} });
    iot.on(DescribeCertificateCommand).rejects(notFound);
    iot.on(DeleteCertificateCommand).rejects(notFound);
    iot.on(DescribeThingGroupCommand).rejects(notFound);
    expect(await registry.certificateStatus(CERT)).toBeUndefined();
    expect(await registry.deleteCertificate(CERT)).toBe('not-found');
    expect(await registry.isDynamicGroup('g')).toBeUndefined();
  });

  test('tells a dynamic group by its query', async () => {
    iot.on(DescribeThingGroupCommand, { thingGroupName: 'd' }).resolves({ queryString: 'attributes.x:1' });
    iot.on(DescribeThingGroupCommand, { thingGroupName: 's' }).resolves({ thingGroupName: 's' });
    expect(await registry.isDynamicGroup('d')).toBe(true);
    expect(await registry.isDynamicGroup('s')).toBe(false);
  });

  test('fails naming the call and the subject, with AWS error kept as the cause', async () => {
    const throttled = new ThrottlingException({ message: 'Rate exceeded', $metadata: {} });
    iot.on(ListAttachedPoliciesCommand).rejects(throttled);
    const error = await registry.attachedPolicies(ARN).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryCallError);
    expect(error).toMatchObject({
      message: `ListAttachedPolicies for ${ARN} failed: ThrottlingException: Rate exceeded`,
      operation: 'ListAttachedPolicies',
      cause: throttled,
    });
  });
});
