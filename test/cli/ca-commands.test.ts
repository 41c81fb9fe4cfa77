import { generateKeyPairSync, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DescribeCACertificateCommand,
  DescribeCertificateCommand,
  IoTClient,
  ListCACertificatesCommand,
  ListCertificatesByCACommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-iot';
import {
  DescribeKeyCommand,
  GetPublicKeyCommand,
  KMSClient,
  SignCommand,
  type KeyMetadata,
} from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { runFleetkit as fleetkit } from '../support/cli';
import { inspectCertificate } from '../../core/certificates/inspect';
import { createCertificateAuthority, issueDeviceCertificate } from '../../core/certificates/issue';
import {
  certificatePublicKey,
  certificateText,
  openssl,
  removeDirectory,
  temporaryDirectory,
  verify,
} from '../core/certificates/openssl';
import { DAY_MS } from '../../core/time';

/** Every client, including the CLI's own, answers from these mocks. */
const kms = mockClient(KMSClient);
const iot = mockClient(IoTClient);

const ROOT_ARN = 'arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-00000000root';
const CA_ARN = 'arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-0000000000ca';

const read = (path: string) => readFileSync(path, 'utf8');
const modeOf = (path: string) => statSync(path).mode & 0o777;

interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** Serves a KMS key by ARN (DescribeKey also by alias), signing with a local key pair. */
function serveKey(arn: string, metadata: Partial<KeyMetadata> = {}): KeyPair {
  const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const described = {
    KeyMetadata: {
      Arn: arn,
      KeyId: arn.split('/')[1],
      KeySpec: 'ECC_NIST_P256' as const,
      KeyUsage: 'SIGN_VERIFY' as const,
      KeyState: 'Enabled' as const,
      SigningAlgorithms: ['ECDSA_SHA_256' as const],
      ...metadata,
    },
  };
  kms.on(DescribeKeyCommand, { KeyId: arn }).resolves(described);
  kms.on(DescribeKeyCommand, { KeyId: `alias/${arn.slice(-4)}` }).resolves(described);
  kms
    .on(GetPublicKeyCommand, { KeyId: arn })
    .resolves({ PublicKey: new Uint8Array(pair.publicKey.export({ type: 'spki', format: 'der' })) });
  kms.on(SignCommand, { KeyId: arn }).callsFake((input: { Message: Uint8Array }) => ({
    Signature: new Uint8Array(sign('sha256', input.Message, pair.privateKey)),
  }));
  return pair;
}

const spkiPem = (key: KeyObject) => key.export({ type: 'spki', format: 'pem' }).toString();

let dir: string;
beforeEach(() => {
  dir = temporaryDirectory();
  kms.reset();
  iot.reset();
});
afterEach(() => removeDirectory(dir));

describe('fleetkit ca create-root', () => {
  test('with a local key writes ca.pem and a 0600 ca.key, path length 1, and says what comes next', async () => {
    const run = await fleetkit('ca', 'create-root', '--out-dir', dir);

    expect(run.code).toBe(0);
    const pem = read(join(dir, 'ca.pem'));
    expect(modeOf(join(dir, 'ca.key'))).toBe(0o600);
    expect(existsSync(join(dir, 'ca.kms.json'))).toBe(false);
    expect(inspectCertificate(pem)).toMatchObject({ subject: { CN: 'Fleetkit Root CA' }, isCa: true });
    expect(certificateText(pem)).toMatch(/CA:TRUE, pathlen:1/);
    expect(run.stdout).toContain(`fleetkit ca create-intermediate --root-dir ${dir} --out-dir <dir>`);
    expect(run.stdout).toContain('The root is not registered with AWS IoT');
  });

  test('with --kms-key-id writes ca.pem with the KMS public key and ca.kms.json, and no key file', async () => {
    const key = serveKey(ROOT_ARN);

    const run = await fleetkit(
      'ca',
      'create-root',
      '--out-dir',
      dir,
      '--kms-key-id',
      'alias/root',
      '--common-name',
      'Acme Root',
      '--days',
      '7000',
    );

    expect(run.code).toBe(0);
    const pem = read(join(dir, 'ca.pem'));
    expect(JSON.parse(read(join(dir, 'ca.kms.json')))).toEqual({ keyId: ROOT_ARN });
    expect(modeOf(join(dir, 'ca.kms.json'))).toBe(0o644);
    expect(existsSync(join(dir, 'ca.key'))).toBe(false);
    expect(certificatePublicKey(pem)).toBe(spkiPem(key.publicKey));
    expect(verify(pem, pem).status).toBe(0);
    const info = inspectCertificate(pem);
    expect(info.subject).toEqual({ CN: 'Acme Root' });
    expect(Math.round((info.notAfter.getTime() - info.notBefore.getTime()) / DAY_MS)).toBe(7000);
    expect(kms.commandCalls(SignCommand).map((call) => call.args[0].input)).toEqual([
      { KeyId: ROOT_ARN, Message: expect.any(Buffer), MessageType: 'RAW', SigningAlgorithm: 'ECDSA_SHA_256' },
    ]);
    expect(run.stdout).toContain(`KMS key         ${ROOT_ARN}`);
  });

  test('fails with exit code 1 and one line saying how to fix a KMS key of the wrong type', async () => {
    serveKey(ROOT_ARN, { KeySpec: 'RSA_2048' });

    const run = await fleetkit('ca', 'create-root', '--out-dir', dir, '--kms-key-id', ROOT_ARN);

    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `fleetkit: error: KMS key ${ROOT_ARN} cannot sign certificates: it is RSA_2048, not ECC_NIST_P256; KMS ` +
        'cannot change that: create a key with `aws kms create-key --key-spec ECC_NIST_P256 --key-usage ' +
        'SIGN_VERIFY --description "Fleetkit device CA"` and use its ARN.\n',
    );
    expect(existsSync(join(dir, 'ca.pem'))).toBe(false);
  });

  test('refuses to write a KMS-held CA over a local one, signing nothing', async () => {
    serveKey(ROOT_ARN);
    await fleetkit('ca', 'create-root', '--out-dir', dir);

    const run = await fleetkit('ca', 'create-root', '--out-dir', dir, '--kms-key-id', ROOT_ARN, '--force');

    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `fleetkit: error: ${join(dir, 'ca.key')} exists: ${dir} holds a CA with a local key. Write the KMS-held ` +
        'CA to another --out-dir.\n',
    );
    expect(kms.commandCalls(SignCommand)).toHaveLength(0);
  });

  test.each([
    [['--kms-key-id', 'k', '--key-algorithm', 'EC_P384'], /Give --kms-key-id or --key-algorithm, not both/],
    [['--path-length', 'x'], /--path-length must be a whole number/],
  ])('fails with exit code 2 for %p', async (extra, message) => {
    const run = await fleetkit('ca', 'create-root', '--out-dir', dir, ...extra);

    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });
});

describe('fleetkit ca create-intermediate', () => {
  const rootDir = () => join(dir, 'root');
  const caDir = () => join(dir, 'ca');

  function expectChain(rootPem: string, caPem: string) {
    expect(verify(rootPem, caPem).status).toBe(0);
    expect(read(join(caDir(), 'ca-chain.pem'))).toBe(`${caPem}${rootPem}`);
    expect(certificateText(caPem)).toMatch(/CA:TRUE, pathlen:0/);
  }

  test('KMS root, KMS intermediate: both signed in KMS, only certificates and key ARNs written', async () => {
    serveKey(ROOT_ARN);
    const caKey = serveKey(CA_ARN);
    await fleetkit('ca', 'create-root', '--out-dir', rootDir(), '--kms-key-id', ROOT_ARN);

    const run = await fleetkit(
      'ca',
      'create-intermediate',
      '--root-dir',
      rootDir(),
      '--out-dir',
      caDir(),
      '--kms-key-id',
      CA_ARN,
    );

    expect(run.code).toBe(0);
    const caPem = read(join(caDir(), 'ca.pem'));
    expectChain(read(join(rootDir(), 'ca.pem')), caPem);
    expect(certificatePublicKey(caPem)).toBe(spkiPem(caKey.publicKey));
    expect(JSON.parse(read(join(caDir(), 'ca.kms.json')))).toEqual({ keyId: CA_ARN });
    expect(existsSync(join(caDir(), 'ca.key'))).toBe(false);
    expect(kms.commandCalls(SignCommand).map((call) => call.args[0].input.KeyId)).toEqual([
      ROOT_ARN,
      ROOT_ARN,
    ]);
    expect(run.stdout).toContain(`certificateFile: '${caDir()}/ca.pem', kmsKeyArn: '${CA_ARN}'`);
  });

  test('local root, KMS intermediate', async () => {
    serveKey(CA_ARN);
    await fleetkit('ca', 'create-root', '--out-dir', rootDir());

    const run = await fleetkit(
      'ca',
      'create-intermediate',
      '--root-dir',
      rootDir(),
      '--out-dir',
      caDir(),
      '--kms-key-id',
      CA_ARN,
    );

    expect(run.code).toBe(0);
    expectChain(read(join(rootDir(), 'ca.pem')), read(join(caDir(), 'ca.pem')));
    expect(kms.commandCalls(SignCommand)).toHaveLength(0);
  });

  test('KMS root, local intermediate: a new P-256 key written 0600', async () => {
    serveKey(ROOT_ARN);
    await fleetkit('ca', 'create-root', '--out-dir', rootDir(), '--kms-key-id', ROOT_ARN);

    const run = await fleetkit('ca', 'create-intermediate', '--root-dir', rootDir(), '--out-dir', caDir());

    expect(run.code).toBe(0);
    const caPem = read(join(caDir(), 'ca.pem'));
    expectChain(read(join(rootDir(), 'ca.pem')), caPem);
    expect(modeOf(join(caDir(), 'ca.key'))).toBe(0o600);
    expect(openssl(['pkey', '-pubout', '-in', join(caDir(), 'ca.key')])).toBe(certificatePublicKey(caPem));
    expect(run.stdout).toContain(
      `fleetkit ca verification-cert --ca-dir ${caDir()} --registration-code <code>`,
    );
  });

  test('local root, local intermediate, with the key algorithm given', async () => {
    await fleetkit('ca', 'create-root', '--out-dir', rootDir());

    const run = await fleetkit(
      'ca',
      'create-intermediate',
      '--root-dir',
      rootDir(),
      '--out-dir',
      caDir(),
      '--key-algorithm',
      'EC_P384',
    );

    expect(run.code).toBe(0);
    const caPem = read(join(caDir(), 'ca.pem'));
    expectChain(read(join(rootDir(), 'ca.pem')), caPem);
    expect(inspectCertificate(caPem).key).toEqual({ type: 'ec', curve: 'P-384' });
  });

  test('fails with exit code 1 when the KMS key is not the root key named in ca.kms.json', async () => {
    serveKey(ROOT_ARN);
    await fleetkit('ca', 'create-root', '--out-dir', rootDir(), '--kms-key-id', ROOT_ARN);
    serveKey(ROOT_ARN); // KMS now answers with another key under the same ARN.

    const run = await fleetkit('ca', 'create-intermediate', '--root-dir', rootDir(), '--out-dir', caDir());

    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      new RegExp(
        `^fleetkit: error: ${ROOT_ARN} is not the key of CA certificate "Fleetkit Root CA" \\([0-9a-f]{64}\\)`,
      ),
    );
  });

  test('fails with exit code 1 when the root directory has no key (moved offline)', async () => {
    await fleetkit('ca', 'create-root', '--out-dir', rootDir());
    rmSync(join(rootDir(), 'ca.key'));

    const run = await fleetkit('ca', 'create-intermediate', '--root-dir', rootDir(), '--out-dir', caDir());

    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `fleetkit: error: ${rootDir()} has ca.pem but neither ca.key (a local CA key) nor ca.kms.json (a KMS-held ` +
        'key); pass --kms-key-id when the key is in KMS.\n',
    );
  });

  test('fails with exit code 1 when the root directory has both a local key and a KMS key', async () => {
    await fleetkit('ca', 'create-root', '--out-dir', rootDir());
    writeFileSync(join(rootDir(), 'ca.kms.json'), '{"keyId":"k"}');

    const run = await fleetkit('ca', 'create-intermediate', '--root-dir', rootDir(), '--out-dir', caDir());

    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^fleetkit: error: \S+ holds both ca\.key and ca\.kms\.json/);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  test('refuses, writing and signing nothing, when any file of the intermediate exists', async () => {
    serveKey(CA_ARN);
    await fleetkit('ca', 'create-root', '--out-dir', rootDir());
    mkdirSync(caDir());
    writeFileSync(join(caDir(), 'ca-chain.pem'), 'old');

    const run = await fleetkit(
      'ca',
      'create-intermediate',
      '--root-dir',
      rootDir(),
      '--out-dir',
      caDir(),
      '--kms-key-id',
      CA_ARN,
    );

    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `fleetkit: error: ${join(caDir(), 'ca-chain.pem')} already exists; refusing to overwrite it. Pass --force to replace it.\n`,
    );
    expect(existsSync(join(caDir(), 'ca.pem'))).toBe(false);
    expect(kms.commandCalls(DescribeKeyCommand)).toHaveLength(0);
  });

  test('fails with exit code 2 when the out directory is the root directory', async () => {
    const run = await fleetkit('ca', 'create-intermediate', '--root-dir', dir, '--out-dir', dir);

    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--out-dir must differ from --root-dir/);
  });
});

describe('KMS-held CA: verification-cert and device issue', () => {
  let caKey: KeyPair;
  beforeEach(async () => {
    caKey = serveKey(CA_ARN);
    await fleetkit('ca', 'create-root', '--out-dir', join(dir, 'root'), '--kms-key-id', CA_ARN);
  });
  const caDir = () => join(dir, 'root');

  test('verification-cert signs with the key in ca.kms.json and writes no key file', async () => {
    const run = await fleetkit(
      'ca',
      'verification-cert',
      '--ca-dir',
      caDir(),
      '--registration-code',
      'code123',
    );

    expect(run.code).toBe(0);
    const pem = read(join(caDir(), 'verification.pem'));
    expect(inspectCertificate(pem).subject).toEqual({ CN: 'code123' });
    expect(new X509Certificate(pem).verify(caKey.publicKey)).toBe(true);
    expect(verify(read(join(caDir(), 'ca.pem')), pem).status).toBe(0);
    expect(existsSync(join(caDir(), 'verification.key'))).toBe(false);
    expect(run.stdout).toContain('private key     none: it was generated, used once and discarded');
  });

  test('verification-cert takes --kms-key-id', async () => {
    const run = await fleetkit(
      'ca',
      'verification-cert',
      '--ca-dir',
      caDir(),
      '--registration-code',
      'code123',
      '--kms-key-id',
      'alias/00ca',
    );

    expect(run.code).toBe(0);
    expect(kms).toHaveReceivedCommandWith(DescribeKeyCommand, { KeyId: 'alias/00ca' });
  });

  test('device issue signs with the KMS key, writing the device key 0600 and a chain', async () => {
    const run = await fleetkit(
      'device',
      'issue',
      '--ca-dir',
      caDir(),
      '--thing-name',
      'sensor-1',
      '--out-dir',
      join(dir, 'd'),
    );

    expect(run.code).toBe(0);
    const caPem = read(join(caDir(), 'ca.pem'));
    const devicePem = read(join(dir, 'd', 'sensor-1.pem'));
    expect(verify(caPem, devicePem).status).toBe(0);
    expect(modeOf(join(dir, 'd', 'sensor-1.key'))).toBe(0o600);
    expect(read(join(dir, 'd', 'sensor-1.chain.pem'))).toBe(`${devicePem}${caPem}`);
  });

  test('device issue certifies a CSR with the KMS key', async () => {
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
        'd.key',
        '-out',
        'd.csr',
        '-subj',
        '/CN=x',
      ],
      { cwd: dir },
    );

    const run = await fleetkit(
      'device',
      'issue',
      '--ca-dir',
      caDir(),
      '--thing-name',
      'sensor-2',
      '--csr',
      join(dir, 'd.csr'),
      '--out-dir',
      join(dir, 'd'),
    );

    expect(run.code).toBe(0);
    expect(existsSync(join(dir, 'd', 'sensor-2.key'))).toBe(false);
    expect(certificatePublicKey(read(join(dir, 'd', 'sensor-2.pem')))).toBe(
      openssl(['pkey', '-pubout', '-in', join(dir, 'd.key')]),
    );
  });
});

describe('fleetkit ca status', () => {
  const ACCOUNT = 'arn:aws:iot:us-east-1:123456789012';
  let ca: { certificatePem: string; privateKeyPem: string };
  let caId: string;
  beforeAll(async () => {
    ca = await createCertificateAuthority({ subject: { CN: 'Acme Device CA' }, validityDays: 20 });
    caId = inspectCertificate(ca.certificatePem).certificateId;
  });

  async function fleetOf(days: readonly number[]) {
    const devices = [];
    for (const [i, validityDays] of days.entries()) {
      const { certificatePem } = await issueDeviceCertificate({ ca, subject: { CN: `d${i}` }, validityDays });
      devices.push({ id: inspectCertificate(certificatePem).certificateId, pem: certificatePem });
    }
    return devices;
  }

  test('shows status, mode, auto-registration, expiry, counts by status and the soonest-expiring devices', async () => {
    const devices = await fleetOf([10, 5, 15]);
    iot.on(DescribeCACertificateCommand).resolves({
      certificateDescription: {
        certificateId: caId,
        certificateArn: `${ACCOUNT}:cacert/${caId}`,
        status: 'ACTIVE',
        certificateMode: 'DEFAULT',
        autoRegistrationStatus: 'ENABLE',
        certificatePem: ca.certificatePem,
      },
    });
    iot
      .on(ListCertificatesByCACommand)
      .resolvesOnce({
        certificates: devices
          .slice(0, 2)
          .map((d, i) => ({ certificateId: d.id, status: 'ACTIVE', creationDate: new Date(i * 1000) })),
        nextMarker: 'next',
      })
      .resolvesOnce({
        certificates: [
          { certificateId: devices[2]!.id, status: 'ACTIVE', creationDate: new Date(5000) },
          { certificateId: 'f'.repeat(64), status: 'REVOKED', creationDate: new Date(0) },
        ],
      });
    for (const device of devices) {
      iot.on(DescribeCertificateCommand, { certificateId: device.id }).resolves({
        certificateDescription: { certificateId: device.id, status: 'ACTIVE', certificatePem: device.pem },
      });
    }

    const run = await fleetkit('ca', 'status', '--ca-certificate-id', caId, '--soonest', '2');

    expect(run.code).toBe(0);
    expect(iot.commandCalls(ListCertificatesByCACommand).map((c) => c.args[0].input)).toEqual([
      { caCertificateId: caId, pageSize: 250, marker: undefined, ascendingOrder: true },
      { caCertificateId: caId, pageSize: 250, marker: 'next', ascendingOrder: true },
    ]);
    expect(iot.commandCalls(DescribeCertificateCommand)).toHaveLength(3);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe(`CA certificate:       ${caId} ("Acme Device CA")`);
    expect(lines.slice(1, 4)).toEqual([
      'Status:               ACTIVE',
      'Mode:                 DEFAULT',
      'Auto-registration:    ENABLE',
    ]);
    expect(lines[4]).toMatch(/^Expires: +\S+ \S+ UTC \((19|20) day\(s\) left\)  << renew/);
    expect(lines[5]).toBe('Device certificates:  4 (ACTIVE 3, REVOKED 1)');
    expect(lines[6]).toBe('Soonest to expire (of the 3 oldest of 3 ACTIVE read):');
    expect(lines[7]).toMatch(new RegExp(`^  ${devices[1]!.id}  ACTIVE  .*\\((4|5) day\\(s\\) left\\)`));
    expect(lines[8]).toMatch(new RegExp(`^  ${devices[0]!.id}  ACTIVE  .*\\((9|10) day\\(s\\) left\\)`));
    expect(lines).toHaveLength(10);
    expect(run.stderr).toBe('fleetkit: 2 device certificates listed, fetching page 2...\n');
  });

  test('--json reports exact values; --max-describe bounds the DescribeCertificate calls to the oldest ACTIVE', async () => {
    const devices = await fleetOf([10, 5]);
    iot.on(DescribeCACertificateCommand).resolves({
      certificateDescription: { certificateId: caId, status: 'INACTIVE', certificatePem: ca.certificatePem },
    });
    iot.on(ListCertificatesByCACommand).resolves({
      certificates: [
        { certificateId: devices[1]!.id, status: 'ACTIVE', creationDate: new Date(2000) },
        { certificateId: devices[0]!.id, status: 'ACTIVE', creationDate: new Date(1000) },
      ],
    });
    iot
      .on(DescribeCertificateCommand, { certificateId: devices[0]!.id })
      .resolves({ certificateDescription: { status: 'ACTIVE', certificatePem: devices[0]!.pem } });

    const run = await fleetkit('ca', 'status', '--ca-certificate-id', caId, '--max-describe', '1', '--json');

    expect(run.code).toBe(0);
    expect(iot.commandCalls(DescribeCertificateCommand).map((c) => c.args[0].input)).toEqual([
      { certificateId: devices[0]!.id },
    ]);
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({
      caCertificateId: caId,
      commonName: 'Acme Device CA',
      status: 'INACTIVE',
      notAfter: inspectCertificate(ca.certificatePem).notAfter.toISOString(),
      deviceCertificates: { total: 2, byStatus: { ACTIVE: 2 } },
      soonestExpiring: {
        checked: 1,
        active: 2,
        certificates: [{ certificateId: devices[0]!.id, status: 'ACTIVE' }],
      },
    });
  });

  test('--ca-dir computes the CA certificate ID from ca.pem', async () => {
    writeFileSync(join(dir, 'ca.pem'), ca.certificatePem);
    iot
      .on(DescribeCACertificateCommand)
      .resolves({ certificateDescription: { certificateId: caId, status: 'ACTIVE' } });
    iot.on(ListCertificatesByCACommand).resolves({ certificates: [] });

    const run = await fleetkit('ca', 'status', '--ca-dir', dir);

    expect(run.code).toBe(0);
    expect(iot).toHaveReceivedCommandWith(DescribeCACertificateCommand, { certificateId: caId });
    expect(run.stdout).toContain('Device certificates:  0\n');
  });

  test('fails with exit code 1 and one line when the CA is not registered', async () => {
    iot
      .on(DescribeCACertificateCommand)
      .rejects(new ResourceNotFoundException({ message: 'nope', $metadata: {} }));

    const run = await fleetkit('ca', 'status', '--ca-certificate-id', caId);

    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `fleetkit: error: No CA certificate ${caId} is registered in this account and region.\n`,
    );
  });

  test.each([
    [[], /Give exactly one of --ca-certificate-id and --ca-dir/],
    [['--ca-certificate-id', 'abc', '--ca-dir', 'x'], /Give exactly one/],
    [['--ca-certificate-id', 'abc'], /--ca-certificate-id must be 64 hex characters/],
    [
      ['--ca-certificate-id', 'a'.repeat(64), '--max-describe', 'ten'],
      /--max-describe must be a whole number/,
    ],
  ])('fails with exit code 2 for %p', async (argv, message) => {
    const run = await fleetkit('ca', 'status', ...argv);

    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });
});

describe('fleetkit ca list', () => {
  test('lists every CA with status, mode and expiry, soonest expiry first', async () => {
    const soon = await createCertificateAuthority({ subject: { CN: 'Old CA' }, validityDays: 10 });
    const later = await createCertificateAuthority({ subject: { CN: 'New CA' }, validityDays: 3650 });
    const soonId = inspectCertificate(soon.certificatePem).certificateId;
    const laterId = inspectCertificate(later.certificatePem).certificateId;
    iot
      .on(ListCACertificatesCommand)
      .resolvesOnce({ certificates: [{ certificateId: laterId, status: 'ACTIVE' }], nextMarker: 'm' })
      .resolvesOnce({ certificates: [{ certificateId: soonId, status: 'INACTIVE' }] });
    iot.on(DescribeCACertificateCommand, { certificateId: laterId }).resolves({
      certificateDescription: {
        certificateId: laterId,
        status: 'ACTIVE',
        certificateMode: 'DEFAULT',
        autoRegistrationStatus: 'ENABLE',
        certificatePem: later.certificatePem,
      },
    });
    iot.on(DescribeCACertificateCommand, { certificateId: soonId }).resolves({
      certificateDescription: {
        certificateId: soonId,
        status: 'INACTIVE',
        certificateMode: 'SNI_ONLY',
        autoRegistrationStatus: 'DISABLE',
        certificatePem: soon.certificatePem,
      },
    });

    const run = await fleetkit('ca', 'list');

    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      new RegExp(
        `^${soonId}  INACTIVE  SNI_ONLY  auto-registration DISABLE  "Old CA"  .* \\((9|10) day\\(s\\) left\\)  << renew`,
      ),
    );
    expect(lines[1]).toMatch(
      new RegExp(`^${laterId}  ACTIVE    DEFAULT   auto-registration ENABLE  "New CA"  `),
    );
    expect(iot.commandCalls(ListCACertificatesCommand).map((c) => c.args[0].input)).toEqual([
      { pageSize: 250, marker: undefined },
      { pageSize: 250, marker: 'm' },
    ]);
  });

  test('says so when no CA is registered', async () => {
    iot.on(ListCACertificatesCommand).resolves({ certificates: [] });

    const run = await fleetkit('ca', 'list');

    expect(run.stdout).toBe('No CA certificates are registered in this account and region.\n');
  });
});
