/**
 * CAs whose private keys are AWS KMS keys, end to end against the integration target: keys made in KMS, root
 * and intermediate CAs and device certificates made with the CLI in-process, every signature checked by
 * `openssl verify` and by node:crypto, the intermediate registered through the registry provider's CA handler
 * (the verification certificate signed by KMS at "deploy" time), a device certificate registered under it, the
 * guarded removal, refused inputs, the CA expiry function, and finally a scan of every log line and file these
 * tests produced for private key material.
 *
 * moto implements what these cover: KMS CreateKey (ECC_NIST_P256 / SIGN_VERIFY), DescribeKey, GetPublicKey and
 * Sign (MessageType RAW); IoT GetRegistrationCode, RegisterCACertificate, DescribeCACertificate,
 * UpdateCACertificate (status), DeleteCACertificate (refused while ACTIVE, as in AWS), RegisterCertificate with
 * a CA, ListCertificatesByCA. It does not check verification certificates, store the certificate mode or the
 * auto-registration flag, paginate ListCertificatesByCA, nor implement ListCACertificates; and its
 * GetRegistrationCode answers a new code on every call, so a verification certificate made beforehand (pem
 * mode) can only be shown refused here. Those paths are covered by the unit tests.
 */
import { X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  DescribeCACertificateCommand,
  IoTClient,
  ListCertificatesByCACommand,
  RegisterCertificateCommand,
  ResourceNotFoundException,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import {
  CreateKeyCommand,
  KMSClient,
  ScheduleKeyDeletionCommand,
  type KeySpec,
  type KeyUsageType,
} from '@aws-sdk/client-kms';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { runFleetkit, type CliRun } from '../support/cli';
import { inspectCertificate } from '../../core/certificates/inspect';
import { REGISTRY_RESOURCE_TYPES } from '../../core/registry/custom-resources';
import { buildHandler as buildExpiryHandler } from '../../lambda/ca-expiry/handler';
import { iotCaCertificates } from '../../lambda/ca-expiry/iot-adapter';
import { createFleetRegistry } from '../../lambda/fleet-registry/iot-adapter';
import { createCaKeys } from '../../lambda/fleet-registry/kms-adapter';
import { buildOnEventHandler } from '../../lambda/fleet-registry/provider';
import type { OnEventResponse } from '../../lambda/fleet-registry/schema';
import { openssl, removeDirectory, temporaryDirectory, verify } from '../core/certificates/openssl';
import { createEvent, deleteEvent, updateEvent } from '../lambda/fleet-registry/fixtures';
import { clientConfig, currentTarget, resetTarget, uniqueName } from '../support/target';
import { PRIVATE_KEY_PEM as PRIVATE_KEY } from '../../core/certificates/pem';
import { daysToExpiry } from '../../core/time';

jest.setTimeout(60_000);

const target = currentTarget();
const iot = new IoTClient({ ...clientConfig(target), maxAttempts: 3 });
const kms = new KMSClient({ ...clientConfig(target), maxAttempts: 3 });
const TYPE = REGISTRY_RESOURCE_TYPES.caCertificate;

/** Every Powertools line the handlers wrote and every CLI output, for the final scan. */
const logLines: string[] = [];
const createdKeys: string[] = [];
let dir: string;

beforeAll(async () => {
  // Start from an empty emulator: moto's DeleteCACertificate fails (HTTP 500) while any thing group has a policy
  // attached, which an earlier test file can leave behind. AWS has no such coupling. Without reset (LocalStack, a
  // sandbox account) this is a no-op and the unique names keep tests apart.
  await resetTarget();
  dir = temporaryDirectory();
});

afterAll(async () => {
  removeDirectory(dir);
  // Keys cost money on a real account: schedule their deletion (the shortest window AWS allows).
  for (const keyId of createdKeys) {
    await kms
      .send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }))
      .catch(() => undefined);
  }
});

async function createKey(keySpec: KeySpec, keyUsage: KeyUsageType): Promise<string> {
  const out = await kms.send(
    new CreateKeyCommand({
      KeySpec: keySpec,
      KeyUsage: keyUsage,
      Description: uniqueName('fleetkit-ca-test'),
    }),
  );
  const arn = out.KeyMetadata!.Arn!;
  createdKeys.push(arn);
  return arn;
}

/** Runs `run` with the Powertools output of the handlers collected (for the scan) instead of printed. */
async function withLogs<T>(run: () => Promise<T>): Promise<PromiseSettledResult<T>> {
  const capture = (chunk: string | Uint8Array) => (logLines.push(String(chunk)), true);
  const out = jest.spyOn(process.stdout, 'write').mockImplementation(capture);
  const err = jest.spyOn(process.stderr, 'write').mockImplementation(capture);
  try {
    const [result] = await Promise.allSettled([run()]);
    return result!;
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

/** The registry provider as deployed, against the target, logging everything (DEBUG) so the scan sees it all. */
const onEvent = buildOnEventHandler({
  registry: createFleetRegistry({ maxAttempts: 3 }),
  caKeys: createCaKeys({ maxAttempts: 3 }),
  logger: new Logger({ serviceName: 'fleetkit-registry', logLevel: 'DEBUG' }),
  now: () => new Date(),
});

async function succeeds(event: CloudFormationCustomResourceEvent): Promise<OnEventResponse> {
  const result = await withLogs(() => onEvent(event));
  if (result.status === 'rejected') throw result.reason;
  return result.value;
}

async function fails(event: CloudFormationCustomResourceEvent): Promise<Error> {
  const result = await withLogs(() => onEvent(event));
  if (result.status === 'fulfilled') throw new Error(`onEvent succeeded: ${JSON.stringify(result.value)}`);
  return result.reason as Error;
}

async function fleetkit(...argv: string[]): Promise<CliRun> {
  const run = await runFleetkit(...argv);
  logLines.push(run.stdout, run.stderr);
  return run;
}

const read = (path: string) => readFileSync(path, 'utf8');

async function caStatus(certificateId: string): Promise<string | undefined> {
  try {
    return (await iot.send(new DescribeCACertificateCommand({ certificateId }))).certificateDescription
      ?.status;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  }
}

describe('a KMS-held PKI made with the CLI', () => {
  let rootArn: string;
  let caArn: string;
  let rootPem: string;
  let caPem: string;
  let caId: string;
  let devicePem: string;
  const rootDir = () => join(dir, 'root');
  const caDir = () => join(dir, 'ca');
  const thing = uniqueName('kms-sensor');

  beforeAll(async () => {
    rootArn = await createKey('ECC_NIST_P256', 'SIGN_VERIFY');
    caArn = await createKey('ECC_NIST_P256', 'SIGN_VERIFY');
  });

  test('creates a KMS root, a KMS intermediate and device certificates that openssl and node:crypto verify', async () => {
    expect((await fleetkit('ca', 'create-root', '--out-dir', rootDir(), '--kms-key-id', rootArn)).code).toBe(
      0,
    );
    expect(
      (
        await fleetkit(
          'ca',
          'create-intermediate',
          '--root-dir',
          rootDir(),
          '--out-dir',
          caDir(),
          '--kms-key-id',
          caArn,
        )
      ).code,
    ).toBe(0);
    const issued = await fleetkit(
      'device',
      'issue',
      '--ca-dir',
      caDir(),
      '--thing-name',
      thing,
      '--out-dir',
      join(dir, 'devices'),
    );
    expect(issued.code).toBe(0);

    rootPem = read(join(rootDir(), 'ca.pem'));
    caPem = read(join(caDir(), 'ca.pem'));
    caId = inspectCertificate(caPem).certificateId;
    devicePem = read(join(dir, 'devices', `${thing}.pem`));
    expect(JSON.parse(read(join(caDir(), 'ca.kms.json')))).toEqual({ keyId: caArn });

    // openssl: root -> intermediate -> device, and the root self-signature.
    expect(verify(rootPem, rootPem).status).toBe(0);
    expect(verify(rootPem, caPem).status).toBe(0);
    const chain = verify(rootPem, devicePem, caPem);
    expect(chain.stderr).toBe('');
    expect(chain.status).toBe(0);
    // node:crypto: each signature with its issuer's public key (which is the KMS key's).
    const root = new X509Certificate(rootPem);
    const ca = new X509Certificate(caPem);
    const device = new X509Certificate(devicePem);
    expect(root.verify(root.publicKey)).toBe(true);
    expect(ca.verify(root.publicKey)).toBe(true);
    expect(device.verify(ca.publicKey)).toBe(true);
    expect(device.checkIssued(ca) && ca.checkIssued(root)).toBe(true);
  });

  test('issues a device certificate from a CSR with the KMS-held intermediate', async () => {
    // The device's own key is made by openssl outside the directory Fleetkit writes to (and the scan reads).
    const deviceDir = temporaryDirectory();
    try {
      openssl(
        [
          'req',
          '-new',
          '-nodes',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:P-256',
          '-keyout',
          'device.key',
          '-out',
          'device.csr',
          '-subj',
          '/CN=x',
        ],
        { cwd: deviceDir },
      );
      const name = uniqueName('kms-csr');

      const run = await fleetkit(
        'device',
        'issue',
        '--ca-dir',
        caDir(),
        '--thing-name',
        name,
        '--csr',
        join(deviceDir, 'device.csr'),
        '--out-dir',
        join(dir, 'devices'),
      );

      expect(run.code).toBe(0);
      const pem = read(join(dir, 'devices', `${name}.pem`));
      expect(verify(rootPem, pem, caPem).status).toBe(0);
      expect(openssl(['x509', '-noout', '-pubkey'], { input: pem })).toBe(
        openssl(['pkey', '-pubout', '-in', join(deviceDir, 'device.key')]),
      );
    } finally {
      removeDirectory(deviceDir);
    }
  });

  test('registers the intermediate through the CA handler, with a verification certificate signed by KMS', async () => {
    const properties = {
      name: 'kms-ca',
      caCertificatePem: caPem,
      verification: { kind: 'kms', kmsKeyArn: caArn },
    };

    const created = await succeeds(createEvent(TYPE, 'KmsCa', properties));

    expect(created.PhysicalResourceId).toBe(caId);
    expect(created.Data).toEqual({
      CaCertificateId: caId,
      // AWS answers `...:cacert/<id>`; moto answers `...:cert/<id>`.
      CaCertificateArn: expect.stringMatching(
        new RegExp(`^arn:aws:iot:[a-z0-9-]+:\\d{12}:(ca)?cert/${caId}$`),
      ),
    });
    expect(await caStatus(caId)).toBe('ACTIVE');

    // Status changes in place.
    await succeeds(updateEvent(TYPE, 'KmsCa', caId, { ...properties, status: 'INACTIVE' }, properties));
    expect(await caStatus(caId)).toBe('INACTIVE');
    await succeeds(updateEvent(TYPE, 'KmsCa', caId, properties, { ...properties, status: 'INACTIVE' }));
    expect(await caStatus(caId)).toBe('ACTIVE');
  });

  test('refuses to remove the CA while a device certificate it issued is ACTIVE, and removes it when forced', async () => {
    const properties = {
      name: 'kms-ca',
      caCertificatePem: caPem,
      verification: { kind: 'kms', kmsKeyArn: caArn },
    };
    const device = await iot.send(
      new RegisterCertificateCommand({
        certificatePem: devicePem,
        caCertificatePem: caPem,
        status: 'ACTIVE',
      }),
    );
    const listed = await iot.send(new ListCertificatesByCACommand({ caCertificateId: caId }));
    expect(listed.certificates?.map((c) => [c.certificateId, c.status])).toEqual([
      [device.certificateId, 'ACTIVE'],
    ]);

    const refused = await fails(deleteEvent(TYPE, 'KmsCa', caId, properties));

    expect(refused.name).toBe('CaCertificateInUseError');
    expect(refused.message).toBe(
      `CA kms-ca (${caId}) still has 1 ACTIVE device certificate: ${device.certificateId}. Removing the CA stops ` +
        'those devices from connecting. Move them first (issue new certificates from the CA that replaces it, ' +
        'then revoke the old ones with UpdateCertificate REVOKED), then deploy again; or set forceRemoval: true ' +
        'on this CA to remove it anyway',
    );
    expect(await caStatus(caId)).toBe('ACTIVE');

    await succeeds(deleteEvent(TYPE, 'KmsCa', caId, { ...properties, forceRemoval: true }));

    expect(await caStatus(caId)).toBeUndefined();
    // Deleting again (a retried Delete) is a success.
    await succeeds(deleteEvent(TYPE, 'KmsCa', caId, properties));
  });

  test('removes a CA without the guard once its device certificates are revoked', async () => {
    const properties = {
      name: 'kms-ca',
      caCertificatePem: caPem,
      verification: { kind: 'kms', kmsKeyArn: caArn },
    };
    await succeeds(createEvent(TYPE, 'KmsCa', properties));
    const listed = await iot.send(new ListCertificatesByCACommand({ caCertificateId: caId }));
    for (const certificate of listed.certificates ?? []) {
      await iot.send(
        new UpdateCertificateCommand({ certificateId: certificate.certificateId!, newStatus: 'REVOKED' }),
      );
    }

    await succeeds(deleteEvent(TYPE, 'KmsCa', caId, properties));

    expect(await caStatus(caId)).toBeUndefined();
  });

  test('the CA expiry function publishes the days left of a registered CA', async () => {
    const properties = { name: 'kms-ca', caCertificatePem: caPem, verification: { kind: 'none' } };
    await succeeds(createEvent(TYPE, 'SniCa', properties));
    const metrics: Record<string, unknown>[] = [];
    const handler = buildExpiryHandler({
      certificateAuthorities: [{ name: 'kms-ca', caCertificateId: caId }],
      certificates: iotCaCertificates(iot),
      logger: new Logger({ serviceName: 'fleetkit-ca-expiry', logLevel: 'DEBUG' }),
      metrics: new Metrics({ namespace: 'Fleetkit', serviceName: 'fleetkit-ca-expiry' }),
      now: () => new Date(),
    });

    const before = logLines.length;
    const result = await withLogs(() => handler({}));
    for (const line of logLines.slice(before).join('').split('\n').filter(Boolean)) {
      const json = JSON.parse(line) as Record<string, unknown>;
      if (json._aws) metrics.push(json);
    }

    expect(result.status).toBe('fulfilled');
    const days = daysToExpiry(inspectCertificate(caPem).notAfter, new Date());
    expect(metrics).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ caName: 'kms-ca', caCertificateId: caId, CaDaysToExpiry: days }),
      ]),
    );
    await succeeds(deleteEvent(TYPE, 'SniCa', caId, properties));
  });
});

describe('wrong inputs are refused with what to fix', () => {
  let caPem: string;
  let caArn: string;
  beforeAll(async () => {
    caArn = await createKey('ECC_NIST_P256', 'SIGN_VERIFY');
    expect(
      (await fleetkit('ca', 'create-root', '--out-dir', join(dir, 'wrong'), '--kms-key-id', caArn)).code,
    ).toBe(0);
    caPem = read(join(dir, 'wrong', 'ca.pem'));
  });

  test.each([
    ['an RSA signing key', 'RSA_2048', 'SIGN_VERIFY', 'it is RSA_2048, not ECC_NIST_P256'],
    [
      'a symmetric encryption key',
      'SYMMETRIC_DEFAULT',
      'ENCRYPT_DECRYPT',
      'it is SYMMETRIC_DEFAULT, not ECC_NIST_P256; its key usage is ENCRYPT_DECRYPT, not SIGN_VERIFY',
    ],
  ] as const)(
    'a KMS key that is %s, by the CA handler and by the CLI',
    async (_title, spec, usage, problem) => {
      const wrongArn = await createKey(spec, usage);

      const error = await fails(
        createEvent(TYPE, 'KmsCa', {
          name: 'wrong',
          caCertificatePem: caPem,
          verification: { kind: 'kms', kmsKeyArn: wrongArn },
        }),
      );
      const cli = await fleetkit(
        'ca',
        'create-root',
        '--out-dir',
        join(dir, uniqueName('wrong')),
        '--kms-key-id',
        wrongArn,
      );

      expect(error.name).toBe('CaSigningKeyError');
      expect(error.message).toContain(`CA wrong: KMS key ${wrongArn} cannot sign certificates: ${problem}`);
      expect(error.message).toContain('aws kms create-key --key-spec ECC_NIST_P256 --key-usage SIGN_VERIFY');
      expect(cli.code).toBe(1);
      expect(cli.stderr).toContain(`KMS key ${wrongArn} cannot sign certificates: ${problem}`);
      expect(await caStatus(inspectCertificate(caPem).certificateId)).toBeUndefined();
    },
  );

  test('a KMS key that is not the CA key', async () => {
    const otherArn = await createKey('ECC_NIST_P256', 'SIGN_VERIFY');

    const error = await fails(
      createEvent(TYPE, 'KmsCa', {
        name: 'wrong',
        caCertificatePem: caPem,
        verification: { kind: 'kms', kmsKeyArn: otherArn },
      }),
    );

    expect(error.name).toBe('CaSigningKeyError');
    expect(error.message).toContain(`${otherArn} is not the key of CA certificate "Fleetkit Root CA"`);
  });

  test('a CA PEM that is not a CA', async () => {
    const name = uniqueName('not-a-ca');
    expect(
      (await fleetkit('device', 'issue', '--ca-dir', join(dir, 'wrong'), '--thing-name', name)).code,
    ).toBe(0);
    const device = read(join(dir, 'wrong', `${name}.pem`));

    const error = await fails(
      createEvent(TYPE, 'KmsCa', { name: 'wrong', caCertificatePem: device, verification: { kind: 'none' } }),
    );

    expect(error.name).toBe('InvalidPropertiesError');
    expect(error.message).toContain(
      `ResourceProperties.caCertificatePem: certificate "${name}" (${inspectCertificate(device).certificateId}) is not a CA`,
    );
  });

  test("a verification certificate whose CN is not the account's registration code", async () => {
    expect(
      (
        await fleetkit(
          'ca',
          'verification-cert',
          '--ca-dir',
          join(dir, 'wrong'),
          '--registration-code',
          'not0the0code',
        )
      ).code,
    ).toBe(0);

    const error = await fails(
      createEvent(TYPE, 'PemCa', {
        name: 'wrong',
        caCertificatePem: caPem,
        verification: {
          kind: 'pem',
          verificationCertificatePem: read(join(dir, 'wrong', 'verification.pem')),
        },
      }),
    );

    expect(error.name).toBe('VerificationCertificateMismatchError');
    expect(error.message).toMatch(
      /^CA wrong: the verification certificate's CN is "not0the0code", but this account's registration code in this region is "\S+" \(GetRegistrationCode\)/,
    );
  });
});

describe('no private key material anywhere', () => {
  function filesUnder(root: string): string[] {
    return readdirSync(root, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory() ? filesUnder(join(root, entry.name)) : [join(root, entry.name)],
    );
  }

  test('in any log line of these tests or any file they wrote, except 0600 *.key files', () => {
    const files = filesUnder(dir);
    const keyFiles = files.filter((file) => file.endsWith('.key'));
    const others = files.filter((file) => !file.endsWith('.key'));
    // Not vacuous: the tests above wrote certificates and logged handler lines.
    expect(others.length).toBeGreaterThanOrEqual(8);
    expect(logLines.join('').split('\n').filter(Boolean).length).toBeGreaterThanOrEqual(20);

    const leaks = [
      ...logLines.flatMap((line, i) => (PRIVATE_KEY.test(line) ? [`log line ${i}`] : [])),
      ...others.filter((file) => PRIVATE_KEY.test(read(file))),
    ];
    expect(leaks).toEqual([]);
    // KMS-held CA directories hold no key file at all; the only key files are the devices', 0600.
    expect(
      keyFiles.filter((file) => file.startsWith(join(dir, 'root')) || file.startsWith(join(dir, 'ca'))),
    ).toEqual([]);
    expect(keyFiles.length).toBeGreaterThan(0);
    for (const file of keyFiles) {
      expect([file, statSync(file).mode & 0o777]).toEqual([file, 0o600]);
    }
  });
});
