import {
  DescribeCACertificateCommand,
  IoTClient,
  ResourceNotFoundException,
  ThrottlingException,
} from '@aws-sdk/client-iot';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { inspectCertificate } from '../../../core/certificates/inspect';
import { createCertificateAuthority } from '../../../core/certificates/issue';
import { readCaExpiryConfig } from '../../../lambda/ca-expiry/config';
import { buildHandler } from '../../../lambda/ca-expiry/handler';
import { iotCaCertificates } from '../../../lambda/ca-expiry/iot-adapter';
import { DAY_MS } from '../../../core/time';
import { caExpiryContract } from '../../../core/contracts/ca-expiry';
const CA = caExpiryContract.names;

const iot = mockClient(IoTClient);

let soon: { pem: string; id: string; notAfter: Date };
let later: { pem: string; id: string; notAfter: Date };

beforeAll(async () => {
  const read = async (validityDays: number, CN: string) => {
    const { certificatePem } = await createCertificateAuthority({ subject: { CN }, validityDays });
    const info = inspectCertificate(certificatePem);
    return { pem: certificatePem, id: info.certificateId, notAfter: info.notAfter };
  };
  soon = await read(100, 'Old CA');
  later = await read(3650, 'New CA');
});

beforeEach(() => iot.reset());
afterEach(() => jest.restoreAllMocks());

function describes(id: string, pem: string | undefined, status = 'ACTIVE') {
  iot.on(DescribeCACertificateCommand, { certificateId: id }).resolves({
    certificateDescription: {
      certificateId: id,
      status: status as 'ACTIVE',
      ...(pem !== undefined && { certificatePem: pem }),
      // Deliberately different from the PEM: the PEM wins when present.
      validity: { notBefore: new Date(0), notAfter: new Date('2099-01-01T00:00:00Z') },
    },
  });
}

/** The handler with its Powertools output captured: metric (EMF) lines apart from log lines. */
function run(env: Record<string, string>, now: Date) {
  const metricLines: Record<string, unknown>[] = [];
  const logLines: Record<string, unknown>[] = [];
  const capture = (chunk: string | Uint8Array) => {
    for (const line of String(chunk).split('\n').filter(Boolean)) {
      const json = JSON.parse(line) as Record<string, unknown>;
      (json._aws ? metricLines : logLines).push(json);
    }
    return true;
  };
  jest.spyOn(process.stdout, 'write').mockImplementation(capture);
  jest.spyOn(process.stderr, 'write').mockImplementation(capture);
  const handler = buildHandler({
    certificateAuthorities: readCaExpiryConfig(env).certificateAuthorities,
    certificates: iotCaCertificates(new IoTClient({})),
    logger: new Logger({ serviceName: 'fleetkit-ca-expiry', logLevel: 'INFO' }),
    metrics: new Metrics({ namespace: 'Fleetkit', serviceName: 'fleetkit-ca-expiry' }),
    now: () => now,
  });
  return { result: handler({}), metricLines, logLines };
}

describe('CA expiry handler', () => {
  test('publishes CaDaysToExpiry per CA in EMF, with caName and caCertificateId dimensions', async () => {
    describes(soon.id, soon.pem);
    describes(later.id, later.pem);
    const now = new Date(soon.notAfter.getTime() - 29.5 * DAY_MS);

    const { result, metricLines, logLines } = run(
      { [CA.certificateAuthorities]: `old=${soon.id},new=${later.id}` },
      now,
    );

    await expect(result).resolves.toEqual([
      {
        caName: 'old',
        caCertificateId: soon.id,
        status: 'ACTIVE',
        notAfter: soon.notAfter.toISOString(),
        daysToExpiry: 29,
      },
      expect.objectContaining({ caName: 'new', caCertificateId: later.id, daysToExpiry: expect.any(Number) }),
    ]);
    expect(iot.commandCalls(DescribeCACertificateCommand).map((c) => c.args[0].input)).toEqual([
      { certificateId: soon.id },
      { certificateId: later.id },
    ]);
    const perCa = metricLines.filter((line) => 'CaDaysToExpiry' in line);
    expect(perCa).toEqual([
      {
        _aws: {
          Timestamp: expect.any(Number),
          CloudWatchMetrics: [
            {
              Namespace: 'Fleetkit',
              Dimensions: [['service', 'caName', 'caCertificateId']],
              Metrics: [{ Name: 'CaDaysToExpiry', Unit: 'Count' }],
            },
          ],
        },
        service: 'fleetkit-ca-expiry',
        caName: 'old',
        caCertificateId: soon.id,
        CaDaysToExpiry: 29,
      },
      expect.objectContaining({
        caName: 'new',
        caCertificateId: later.id,
        CaDaysToExpiry: expect.any(Number),
      }),
    ]);
    expect(perCa[1]!.CaDaysToExpiry).toBeGreaterThan(3000);
    expect(metricLines).toEqual(
      expect.arrayContaining([expect.objectContaining({ CaExpiryCheckFailed: 0 })]),
    );
    expect(logLines).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ level: 'WARN', caName: 'old', daysToExpiry: 29 }),
        expect.objectContaining({ level: 'INFO', caName: 'new' }),
      ]),
    );
    expect(JSON.stringify(logLines)).not.toMatch(/-----BEGIN/);
  });

  test('falls back to the reported validity when AWS IoT returns no PEM', async () => {
    describes(soon.id, undefined);

    const { result } = run(
      { [CA.certificateAuthorities]: `old=${soon.id}` },
      new Date('2098-12-01T00:00:00Z'),
    );

    await expect(result).resolves.toEqual([
      expect.objectContaining({ notAfter: '2099-01-01T00:00:00.000Z', daysToExpiry: 31 }),
    ]);
  });

  test.each([
    [
      'not registered',
      () =>
        iot
          .on(DescribeCACertificateCommand, { certificateId: soon.id })
          .rejects(new ResourceNotFoundException({ message: 'gone', $metadata: {} })),
      'CA certificate is not registered in this account and region; its expiry cannot be measured',
    ],
    [
      'throttled beyond the SDK retries',
      () =>
        iot
          .on(DescribeCACertificateCommand, { certificateId: soon.id })
          .rejects(new ThrottlingException({ message: 'Rate exceeded', $metadata: {} })),
      'could not read the CA certificate',
    ],
  ])('measures the other CAs, then fails naming the CA that is %s', async (_title, arrange, logged) => {
    arrange();
    describes(later.id, later.pem);

    const { result, metricLines, logLines } = run(
      { [CA.certificateAuthorities]: `old=${soon.id},new=${later.id}` },
      new Date(),
    );

    await expect(result).rejects.toMatchObject({
      name: 'CaExpiryCheckError',
      failed: ['old'],
      message: 'the expiry of 1 of 2 CA(s) could not be read: old; see the error log lines for each',
    });
    expect(metricLines.filter((line) => 'CaDaysToExpiry' in line).map((line) => line.caName)).toEqual([
      'new',
    ]);
    expect(metricLines).toEqual(
      expect.arrayContaining([expect.objectContaining({ CaExpiryCheckFailed: 1 })]),
    );
    expect(logLines).toEqual(
      expect.arrayContaining([expect.objectContaining({ level: 'ERROR', caName: 'old', message: logged })]),
    );
  });
});
