/**
 * `fleetkit bulk prepare`, for real: worker threads make the keys, openssl checks every CSR and certificate, the
 * template evaluator checks every registration line against the profile's template.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeKeyCommand, GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { writeKeyAndCertificate } from '../../core/certificates/files';
import { kmsSigner } from '../../core/certificates/kms';
import { inspectCertificate } from '../../core/certificates/inspect';
import { createCertificateAuthority, type KeyAndCertificate } from '../../core/certificates/issue';
import { bulkProfileOf, type BulkProvisioningProfile } from '../../core/manifest/profile';
import { evaluateTemplate } from '../../core/provisioning';
import { prepareBatch } from '../../cli/lib/bulk/prepare';
import type { IdentityGenerator } from '../../cli/lib/bulk/identity-pool';
import { Progress } from '../../cli/lib/progress';
import { runFleetkit as fleetkit } from '../support/cli';
import { certificatePublicKey, openssl, runOpenssl } from '../core/certificates/openssl';

const SETTINGS = {
  fleet: 'pumps',
  thingNamePrefix: 'pump-',
  thingTypes: ['pump-v2'],
  defaultThingType: 'pump-v2',
  thingGroups: ['site-lyon', 'site-porto'],
  attributes: ['model'],
  devicePolicyName: 'pumps-device',
};

let dir: string;
let ca: KeyAndCertificate;
let caDir: string;
let csrProfile: string;
let caProfile: string;

const modeOf = (path: string) => statSync(path).mode & 0o777;
const write = (name: string, content: string) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
const profileFile = (name: string, profile: BulkProvisioningProfile) => write(name, JSON.stringify(profile));
/** `fleetkit bulk prepare` with each option given as `--<key> <value>`, in the order given. */
const prepare = (options: Readonly<Record<string, string>>) =>
  fleetkit('bulk', 'prepare', ...Object.entries(options).flatMap(([name, value]) => [`--${name}`, value]));
const HEADER = 'serialNumber,thingName,thingGroup,attributes\n';
const rows = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, index) => `SN${from + index},,site-lyon,model=P2\n`).join('');

beforeAll(async () => {
  ca = await createCertificateAuthority({ subject: { CN: 'Factory Test CA', O: 'Fleetkit' } });
});

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fleetkit-bulk-prepare-'));
  caDir = join(dir, 'ca');
  writeKeyAndCertificate(caDir, 'ca', ca);
  const caId = inspectCertificate(ca.certificatePem).certificateId;
  csrProfile = profileFile(
    'csr.json',
    bulkProfileOf({ ...SETTINGS, certificates: 'CSR', caCertificateIds: [] }),
  );
  caProfile = profileFile(
    'ca.json',
    bulkProfileOf({ ...SETTINGS, certificates: 'CA', caCertificateIds: [caId] }),
  );
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The registration file's lines, parsed. */
const registrationLines = (batch: string) =>
  readFileSync(join(batch, 'registration.jsonl'), 'utf8')
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, string>);

describe('bulk prepare, CSRs', () => {
  test('makes a key (0600) and a CSR per good device, reports the bad row by line, and writes no key anywhere else', async () => {
    const manifest = write(
      'devices.csv',
      HEADER + rows(1, 4) + 'SN 9,,site-lyon,model=P2\n' + 'SN4,gateway-4,site-porto,model=P3\n',
    );
    const batch = join(dir, 'batch');
    const run = await prepare({ profile: csrProfile, manifest, 'out-dir': batch });

    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`Batch ${batch}: 4 devices made, 0 already prepared, 1 rows rejected`);
    expect(run.stdout).toContain(
      `    line 5: serialNumber "SN 9" has a character AWS IoT does not allow in serial numbers`,
    );
    expect(readFileSync(join(batch, 'problems.txt'), 'utf8')).toMatch(/^line 5: serialNumber "SN 9" /);
    expect(readdirSync(join(batch, 'devices')).sort()).toEqual([
      'gateway-4',
      'pump-SN1',
      'pump-SN2',
      'pump-SN3',
    ]);

    const template = (JSON.parse(readFileSync(csrProfile, 'utf8')) as BulkProvisioningProfile).templateBody;
    const lines = registrationLines(batch);
    expect(lines.map((line) => line.ThingName).sort()).toEqual([
      'gateway-4',
      'pump-SN1',
      'pump-SN2',
      'pump-SN3',
    ]);
    for (const line of lines) {
      const folder = join(batch, 'devices', line.ThingName!);
      expect(modeOf(join(folder, 'device.key'))).toBe(0o600);
      expect(modeOf(folder)).toBe(0o700);
      expect(readFileSync(join(folder, 'device.csr'), 'utf8')).toBe(line.CSR);
      // openssl reads the CSR and verifies its signature with its own key; the subject names the device.
      const checked = runOpenssl(['req', '-verify', '-noout', '-subject'], { input: line.CSR });
      expect(checked.status).toBe(0);
      expect(checked.stderr + checked.stdout).toMatch(/verify OK/i);
      expect(checked.stdout).toContain(`CN = ${line.ThingName}`);
      expect(checked.stdout).toContain(`serialNumber = ${line.SerialNumber}`);
      // The CSR is for the key beside it.
      expect(openssl(['req', '-noout', '-pubkey'], { input: line.CSR })).toBe(
        openssl(['pkey', '-pubout', '-in', join(folder, 'device.key')]),
      );
      // Every line is exactly what the template takes, and registers the thing the manifest row says.
      const plan = evaluateTemplate(JSON.parse(template), { kind: 'BULK_REGISTRATION', parameters: line });
      expect(plan).toMatchObject({
        outcome: 'PROVISIONED',
        thing: {
          thingName: line.ThingName,
          thingTypeName: 'pump-v2',
          attributes: {
            serialNumber: line.SerialNumber,
            model: line.ThingName === 'gateway-4' ? 'P3' : 'P2',
          },
        },
        certificate: { source: 'CertificateSigningRequest' },
      });
    }
    expect(readFileSync(join(batch, 'registration.jsonl'), 'utf8')).not.toContain('PRIVATE KEY');
    expect(readFileSync(join(batch, 'batch.json'), 'utf8')).not.toContain('PRIVATE KEY');
  });

  test('a re-run keeps every prepared device and its key, removes a half-written one, and adds new rows', async () => {
    const manifest = write('devices.csv', HEADER + rows(1, 4));
    const batch = join(dir, 'batch');
    const args = { profile: csrProfile, manifest, 'out-dir': batch };
    expect((await prepare(args)).code).toBe(0);
    const keyOf = (thing: string) => readFileSync(join(batch, 'devices', thing, 'device.key'), 'utf8');
    const before = ['pump-SN1', 'pump-SN2', 'pump-SN3'].map(keyOf);
    // An interruption left a device half-written, and the file half-written: neither reached a registration file.
    mkdirSync(join(batch, 'devices', '.partial-pump-SN4'), { mode: 0o700 });
    writeFileSync(join(batch, 'devices', '.partial-pump-SN4', 'device.key'), 'half');
    writeFileSync(join(batch, 'registration.jsonl.partial'), '{"ThingName":"pump-SN4"');
    writeFileSync(manifest, HEADER + rows(1, 6));

    const again = await prepare(args);

    expect(again.code).toBe(0);
    expect(again.stdout).toContain('2 devices made, 3 already prepared, 0 rows rejected');
    expect(['pump-SN1', 'pump-SN2', 'pump-SN3'].map(keyOf)).toEqual(before);
    expect(readdirSync(join(batch, 'devices')).sort()).toEqual([
      'pump-SN1',
      'pump-SN2',
      'pump-SN3',
      'pump-SN4',
      'pump-SN5',
    ]);
    expect(
      registrationLines(batch)
        .map((line) => line.ThingName)
        .sort(),
    ).toEqual(['pump-SN1', 'pump-SN2', 'pump-SN3', 'pump-SN4', 'pump-SN5']);
    expect(existsSync(join(batch, 'registration.jsonl.partial'))).toBe(false);
  });

  test('fails when the batch was submitted already: new devices go into a new batch', async () => {
    const manifest = write('devices.csv', HEADER + rows(1, 2));
    const batch = join(dir, 'batch');
    mkdirSync(batch);
    writeFileSync(join(batch, 'task.json'), '{}');
    const run = await prepare({ profile: csrProfile, manifest, 'out-dir': batch });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('was submitted for registration already (task.json)');
  });

  test('fails when the batch was prepared with another profile', async () => {
    const manifest = write('devices.csv', HEADER + rows(1, 2));
    const batch = join(dir, 'batch');
    expect((await prepare({ profile: csrProfile, manifest, 'out-dir': batch })).code).toBe(0);
    const run = await prepare({ profile: caProfile, 'ca-dir': caDir, manifest, 'out-dir': batch });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('was prepared with another bulk provisioning profile');
  });

  test('fails when the profile has AWS IoT sign but a CA is given', async () => {
    const manifest = write('devices.csv', HEADER + rows(1, 2));
    const run = await prepare({ profile: csrProfile, 'ca-dir': caDir, manifest, 'out-dir': join(dir, 'b') });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      'The profile has AWS IoT sign CSRs (certificates: CSR): give no --ca-dir or --kms-key-id.',
    );
  });
});

describe('bulk prepare, malformed manifests', () => {
  test.each([
    ['an empty file', '', 'line 1: the manifest is empty: it has no header row'],
    ['a header without rows', HEADER, 'line 1: the manifest has a header but no device rows'],
    [
      'a missing column',
      'thingName,thingGroup\npump-1,site-lyon\n',
      'line 1: the header is not usable: missing column serialNumber, which every device needs; missing column attributes',
    ],
    [
      'a quoted field never closed',
      `${HEADER}SN1,,site-lyon,"model=P2\n`,
      'line 2: a quoted field starting on this line is never closed',
    ],
  ])('fails on %s, naming the line, and writes no registration file', async (_title, content, message) => {
    const manifest = write('devices.csv', content);
    const batch = join(dir, 'batch');
    const run = await prepare({ profile: csrProfile, manifest, 'out-dir': batch });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`The manifest cannot be read: ${message}`);
    expect(existsSync(join(batch, 'registration.jsonl'))).toBe(false);
    expect(readdirSync(join(batch, 'devices'))).toEqual([]);
  });

  test('duplicates and bad characters are rejected by line while the good rows are prepared', async () => {
    const manifest = write(
      'devices.csv',
      HEADER +
        'SN1,,site-lyon,model=P2\n' +
        'SN1,,site-lyon,model=P2\n' +
        'SN3,pump/3,site-lyon,model=P2\n' +
        'SN4,,site-lyon,model=P 2\n' +
        'SN5,,site-paris,model=P2\n' +
        'SN6,,site-porto,model=P2\n',
    );
    const batch = join(dir, 'batch');
    const run = await prepare({ profile: csrProfile, manifest, 'out-dir': batch });
    expect(run.code).toBe(1);
    expect(readFileSync(join(batch, 'problems.txt'), 'utf8').trimEnd().split('\n')).toEqual([
      'line 3: duplicate serialNumber SN1 (first on line 2)',
      `line 4: thingName "pump/3" has a character AWS IoT does not allow in thing names ("/"); allowed: letters, digits, ':', '_' and '-'`,
      'line 5: attributes: model value "P 2" has a character AWS IoT does not allow in attribute values (" "); allowed: letters, digits and _ . , @ / : # = [ ] -',
      'line 6: thingGroup "site-paris" is not in the configuration (allowed: site-lyon, site-porto)',
    ]);
    expect(
      registrationLines(batch)
        .map((line) => line.ThingName)
        .sort(),
    ).toEqual(['pump-SN1', 'pump-SN6']);
  });
});

describe('bulk prepare, certificates from a local CA key', () => {
  test('each certificate verifies against the CA with openssl and certifies the key beside it', async () => {
    const manifest = write('devices.csv', HEADER + rows(1, 4));
    const batch = join(dir, 'batch');
    const run = await prepare({
      profile: caProfile,
      'ca-dir': caDir,
      manifest,
      'out-dir': batch,
      days: '30',
      workers: '2',
    });
    expect(run.code).toBe(0);
    writeFileSync(join(dir, 'ca-only.pem'), ca.certificatePem);
    for (const line of registrationLines(batch)) {
      const folder = join(batch, 'devices', line.ThingName!);
      expect(line.CSR).toBeUndefined();
      expect(readFileSync(join(folder, 'device.pem'), 'utf8')).toBe(line.CertificatePem);
      const verified = runOpenssl([
        'verify',
        '-CAfile',
        join(dir, 'ca-only.pem'),
        join(folder, 'device.pem'),
      ]);
      expect(verified.stdout).toContain(': OK');
      expect(certificatePublicKey(line.CertificatePem!)).toBe(
        openssl(['pkey', '-pubout', '-in', join(folder, 'device.key')]),
      );
      const info = inspectCertificate(line.CertificatePem!);
      expect(info.subject).toMatchObject({ CN: line.ThingName, serialNumber: line.SerialNumber });
      expect(Math.round((info.notAfter.getTime() - info.notBefore.getTime()) / 86_400_000)).toBe(30);
      expect(modeOf(join(folder, 'device.key'))).toBe(0o600);
    }
    expect(JSON.parse(readFileSync(join(batch, 'batch.json'), 'utf8')).caCertificatePem).toBe(
      ca.certificatePem,
    );
  });

  test('fails when the CA is not one the fleet registers, before any key is made', async () => {
    const other = await createCertificateAuthority({ subject: { CN: 'Other CA' } });
    const otherDir = join(dir, 'other');
    writeKeyAndCertificate(otherDir, 'ca', other);
    const manifest = write('devices.csv', HEADER + rows(1, 2));
    const run = await prepare({
      profile: caProfile,
      'ca-dir': otherDir,
      manifest,
      'out-dir': join(dir, 'b'),
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("is not one of the fleet's ACTIVE CAs");
    expect(existsSync(join(dir, 'b'))).toBe(false);
  });

  test('fails when the profile has the CA sign but no CA is given', async () => {
    const manifest = write('devices.csv', HEADER + rows(1, 2));
    const run = await prepare({ profile: caProfile, manifest, 'out-dir': join(dir, 'b') });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      'The profile has your CA sign certificates (certificates: CA): give --ca-dir.',
    );
  });
});

describe('bulk prepare, certificates from a KMS-held CA', () => {
  const kms = mockClient(KMSClient);
  const KEY_ARN = 'arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-0000000factory';
  afterAll(() => kms.restore());

  test('KMS signs each certificate through the issuer; each verifies with openssl; no key reaches KMS', async () => {
    // A KMS key served by the mock, signing with a key pair only this test holds.
    const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    kms.reset();
    kms.on(DescribeKeyCommand, { KeyId: KEY_ARN }).resolves({
      KeyMetadata: {
        Arn: KEY_ARN,
        KeyId: KEY_ARN.split('/')[1],
        KeySpec: 'ECC_NIST_P256',
        KeyUsage: 'SIGN_VERIFY',
        KeyState: 'Enabled',
        SigningAlgorithms: ['ECDSA_SHA_256'],
      },
    });
    kms
      .on(GetPublicKeyCommand, { KeyId: KEY_ARN })
      .resolves({ PublicKey: new Uint8Array(pair.publicKey.export({ type: 'spki', format: 'der' })) });
    kms.on(SignCommand, { KeyId: KEY_ARN }).callsFake((input: { Message: Uint8Array }) => ({
      Signature: new Uint8Array(sign('sha256', input.Message, pair.privateKey)),
    }));
    const kmsCa = await createCertificateAuthority({
      subject: { CN: 'Factory KMS CA' },
      signer: await kmsSigner(new KMSClient({}), KEY_ARN),
    });
    const kmsCaDir = join(dir, 'kms-ca');
    mkdirSync(kmsCaDir);
    writeFileSync(join(kmsCaDir, 'ca.pem'), kmsCa.certificatePem);
    const profile = profileFile(
      'kms.json',
      bulkProfileOf({
        ...SETTINGS,
        certificates: 'CA',
        caCertificateIds: [inspectCertificate(kmsCa.certificatePem).certificateId],
      }),
    );
    kms.resetHistory();
    const manifest = write('devices.csv', HEADER + rows(1, 4));
    const batch = join(dir, 'batch');

    const run = await prepare({
      profile,
      'ca-dir': kmsCaDir,
      'kms-key-id': KEY_ARN,
      manifest,
      'out-dir': batch,
    });

    expect(run.code).toBe(0);
    const lines = registrationLines(batch);
    expect(lines.map((line) => line.ThingName)).toEqual(['pump-SN1', 'pump-SN2', 'pump-SN3']);
    for (const line of lines) {
      const folder = join(batch, 'devices', line.ThingName!);
      const verified = runOpenssl([
        'verify',
        '-CAfile',
        join(kmsCaDir, 'ca.pem'),
        join(folder, 'device.pem'),
      ]);
      expect(verified.stdout).toContain(': OK');
      expect(certificatePublicKey(line.CertificatePem!)).toBe(
        openssl(['pkey', '-pubout', '-in', join(folder, 'device.key')]),
      );
      expect(modeOf(join(folder, 'device.key'))).toBe(0o600);
    }
    // One signature per device, over the certificate holding its public key; no device key ever reaches KMS.
    const messages = kms.commandCalls(SignCommand).map((call) => {
      expect(call.args[0].input).toMatchObject({
        KeyId: KEY_ARN,
        MessageType: 'RAW',
        SigningAlgorithm: 'ECDSA_SHA_256',
      });
      return Buffer.from(call.args[0].input.Message!);
    });
    expect(messages).toHaveLength(3);
    for (const line of lines) {
      const key = createPrivateKey(readFileSync(join(batch, 'devices', line.ThingName!, 'device.key')));
      const publicDer = createPublicKey(key).export({ type: 'spki', format: 'der' });
      const privateDer = key.export({ type: 'pkcs8', format: 'der' });
      expect(messages.filter((message) => message.includes(publicDer))).toHaveLength(1);
      expect(messages.some((message) => message.includes(privateDer))).toBe(false);
    }
  });
});

describe('prepareBatch', () => {
  test('keeps at most two batches per thread in flight, so memory stays bounded whatever the manifest length', async () => {
    const manifest = write('devices.csv', HEADER + rows(0, 2000));
    let inFlight = 0;
    let most = 0;
    const pending: (() => void)[] = [];
    const generator: IdentityGenerator = {
      parallelism: 2,
      async run(jobs) {
        inFlight += 1;
        most = Math.max(most, inFlight);
        // Answer only once the reader has had every chance to send more.
        await new Promise<void>((resolve) => pending.push(resolve));
        inFlight -= 1;
        return jobs.map((job) => ({
          thingName: job.thingName,
          certificate: { csrPem: `CSR ${job.thingName}` },
        }));
      },
      close: () => Promise.resolve(),
    };
    const release = setInterval(() => pending.shift()?.(), 1);
    try {
      const summary = await prepareBatch({
        manifestPath: manifest,
        dir: join(dir, 'batch'),
        profile: JSON.parse(readFileSync(csrProfile, 'utf8')) as BulkProvisioningProfile,
        generator: () => Promise.resolve(generator),
        progress: new Progress({
          label: 'prepare',
          unit: 'devices',
          stream: { write: () => true },
          interactive: false,
        }),
      });
      expect(summary).toMatchObject({ made: 2000, resumed: 0, rejected: 0, lines: 2000 });
    } finally {
      clearInterval(release);
    }
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(4);
  });

  test('a device whose identity cannot be made is a rejected row; the others proceed', async () => {
    const manifest = write('devices.csv', HEADER + rows(1, 4));
    const generator: IdentityGenerator = {
      parallelism: 1,
      run: (jobs) =>
        Promise.resolve(
          jobs.map((job) =>
            job.thingName === 'pump-SN2'
              ? { thingName: job.thingName, error: 'disk full' }
              : { thingName: job.thingName, certificate: { csrPem: 'CSR' } },
          ),
        ),
      close: () => Promise.resolve(),
    };
    const summary = await prepareBatch({
      manifestPath: manifest,
      dir: join(dir, 'batch'),
      profile: JSON.parse(readFileSync(csrProfile, 'utf8')) as BulkProvisioningProfile,
      generator: () => Promise.resolve(generator),
      progress: new Progress({
        label: 'prepare',
        unit: 'devices',
        stream: { write: () => true },
        interactive: false,
      }),
    });
    expect(summary).toMatchObject({ made: 2, rejected: 1, lines: 2 });
    expect(summary.problems).toEqual([
      {
        kind: 'problem',
        line: 3,
        message: "the device's identity could not be made: disk full",
        fatal: false,
      },
    ]);
  });
});
