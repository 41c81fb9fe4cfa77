import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { derSha256 } from '../support/certificates';
import { runFleetkit as fleetkit } from '../support/cli';
import { inspectCertificate } from '../../core/certificates/inspect';
import { createCertificateAuthority, issueDeviceCertificate } from '../../core/certificates/issue';
import { writeKeyAndCertificate } from '../../core/certificates/files';
import {
  certificatePublicKey,
  certificateText,
  openssl,
  removeDirectory,
  temporaryDirectory,
  verify,
} from '../core/certificates/openssl';
import { DAY_MS } from '../../core/time';

const read = (path: string) => readFileSync(path, 'utf8');
const modeOf = (path: string) => statSync(path).mode & 0o777;

let dir: string;
beforeEach(() => {
  dir = temporaryDirectory();
});
afterEach(() => removeDirectory(dir));

describe('fleetkit', () => {
  test('--help lists every command and exits 0', async () => {
    const run = await fleetkit('--help');

    expect(run.code).toBe(0);
    for (const command of [
      'ca create',
      'ca create-root',
      'ca create-intermediate',
      'ca verification-cert',
      'ca status',
      'ca list',
      'device issue',
      'cert inspect',
    ]) {
      expect(run.stdout).toContain(`fleetkit ${command}`);
    }
  });

  test('with no command prints usage to stderr and exits 2', async () => {
    const run = await fleetkit();

    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Usage: fleetkit');
    expect(run.stdout).toBe('');
  });

  test('fails with exit code 2 and one line for an unknown command', async () => {
    const run = await fleetkit('bogus');

    expect(run.code).toBe(2);
    expect(run.stderr).toBe('fleetkit: unknown command "bogus". Run "fleetkit --help" for the list.\n');
  });

  test('fails with exit code 2 for an unknown verb', async () => {
    const run = await fleetkit('ca', 'destroy');

    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^fleetkit: unknown command "ca destroy"\..*\n$/);
  });

  test('fails with exit code 2 and one line for an unknown option', async () => {
    const run = await fleetkit('ca', 'create', '--out-dir', dir, '--bogus');

    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      'fleetkit: Unknown option "--bogus". Run "fleetkit ca create --help" for usage.\n',
    );
    expect(existsSync(join(dir, 'ca.key'))).toBe(false);
  });

  test.each([
    [['ca', 'create'], /Missing required option --out-dir/],
    [['ca', 'create', '--out-dir', 'x', '--days', 'ten'], /--days must be a whole number/],
    [['ca', 'create', '--out-dir', 'x', '--days', '0'], /--days must be a whole number/],
    [['ca', 'create', '--out-dir', 'x', '--key-algorithm', 'DSA'], /--key-algorithm must be one of EC_P256/],
    [['ca', 'create', '--out-dir', 'x', '--path-length=-1'], /--path-length must be a whole number/],
    [['ca', 'create', '--out-dir'], /Option '--out-dir <value>' argument missing/],
    [['ca', 'verification-cert', '--ca-dir', 'x'], /Missing required option --registration-code/],
    [
      ['ca', 'verification-cert', '--ca-dir', 'x', '--registration-code', 'a b'],
      /--registration-code must be/,
    ],
    [['device', 'issue', '--ca-dir', 'x'], /Missing required option --thing-name/],
    [['device', 'issue', '--ca-dir', 'x', '--thing-name', 'has space'], /--thing-name must be 1 to 128/],
    [
      ['device', 'issue', '--ca-dir', 'x', '--thing-name', 't', '--csr', 'c', '--key-algorithm', 'EC_P256'],
      /not both/,
    ],
    [['cert', 'inspect'], /Missing argument/],
    [['cert', 'inspect', 'a', 'b'], /Unexpected argument "b"/],
  ])('fails with exit code 2 for %p', async (argv, message) => {
    const run = await fleetkit(...argv);

    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  test.each([
    ['ca', 'create'],
    ['ca', 'create-root'],
    ['ca', 'create-intermediate'],
    ['ca', 'verification-cert'],
    ['ca', 'status'],
    ['ca', 'list'],
    ['device', 'issue'],
    ['cert', 'inspect'],
  ])("%s %s --help shows that command's usage and exits 0", async (group, verb) => {
    const run = await fleetkit(group, verb, '--help');

    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Usage: fleetkit ${group} ${verb}`);
  });
});

describe('fleetkit ca create', () => {
  test('writes ca.pem and a 0600 ca.key and prints the certificate id and next steps', async () => {
    const run = await fleetkit('ca', 'create', '--out-dir', dir);

    expect(run.code).toBe(0);
    const caPem = read(join(dir, 'ca.pem'));
    expect(modeOf(join(dir, 'ca.key'))).toBe(0o600);
    expect(run.stdout).toContain(`certificate id  ${derSha256(caPem)}`);
    expect(run.stdout).toContain('aws iot get-registration-code');
    expect(run.stdout).toContain(`fleetkit ca verification-cert --ca-dir ${dir}`);
    expect(inspectCertificate(caPem)).toMatchObject({ subject: { CN: 'Fleetkit Device CA' }, isCa: true });
    expect(openssl(['pkey', '-pubout', '-in', join(dir, 'ca.key')])).toBe(certificatePublicKey(caPem));
  });

  test('uses the common name, organization, days and key algorithm given', async () => {
    const run = await fleetkit(
      'ca',
      'create',
      '--out-dir',
      dir,
      '--common-name',
      'Plant 7 CA',
      '--organization',
      'Acme, Inc.',
      '--days',
      '30',
      '--key-algorithm',
      'ec_p384',
    );

    expect(run.code).toBe(0);
    const info = inspectCertificate(read(join(dir, 'ca.pem')));
    expect(info.subject).toEqual({ CN: 'Plant 7 CA', O: 'Acme, Inc.' });
    expect(info.key).toEqual({ type: 'ec', curve: 'P-384' });
    expect(Math.round((info.notAfter.getTime() - info.notBefore.getTime()) / DAY_MS)).toBe(30);
  });

  test('refuses to overwrite an existing CA (exit 1) unless --force is given', async () => {
    await fleetkit('ca', 'create', '--out-dir', dir);
    const firstKey = read(join(dir, 'ca.key'));

    const refused = await fleetkit('ca', 'create', '--out-dir', dir);

    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      `fleetkit: error: ${join(dir, 'ca.key')} already exists; refusing to overwrite it. Pass --force to replace it.\n`,
    );
    expect(read(join(dir, 'ca.key'))).toBe(firstKey);

    const forced = await fleetkit('ca', 'create', '--out-dir', dir, '--force');

    expect(forced.code).toBe(0);
    expect(read(join(dir, 'ca.key'))).not.toBe(firstKey);
    expect(modeOf(join(dir, 'ca.key'))).toBe(0o600);
  });

  test('makes an intermediate with --issuer-ca-dir', async () => {
    await fleetkit('ca', 'create', '--out-dir', join(dir, 'root'), '--common-name', 'Root');

    const run = await fleetkit(
      'ca',
      'create',
      '--out-dir',
      join(dir, 'sub'),
      '--common-name',
      'Sub',
      '--issuer-ca-dir',
      join(dir, 'root'),
    );

    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Created intermediate CA "Sub"');
    const sub = read(join(dir, 'sub', 'ca.pem'));
    expect(verify(read(join(dir, 'root', 'ca.pem')), sub).status).toBe(0);
  });
});

describe('fleetkit ca verification-cert', () => {
  test('writes verification.pem with CN = the registration code, signed by the CA', async () => {
    await fleetkit('ca', 'create', '--out-dir', dir);

    const run = await fleetkit(
      'ca',
      'verification-cert',
      '--ca-dir',
      dir,
      '--registration-code',
      'abc123DEF',
    );

    expect(run.code).toBe(0);
    const pem = read(join(dir, 'verification.pem'));
    expect(inspectCertificate(pem).subject).toEqual({ CN: 'abc123DEF' });
    expect(verify(read(join(dir, 'ca.pem')), pem).status).toBe(0);
    expect(modeOf(join(dir, 'verification.key'))).toBe(0o600);
    expect(run.stdout).toContain(`--verification-certificate file://${join(dir, 'verification.pem')}`);
  });

  test('writes into --out-dir when given', async () => {
    await fleetkit('ca', 'create', '--out-dir', dir);

    const run = await fleetkit(
      'ca',
      'verification-cert',
      '--ca-dir',
      dir,
      '--registration-code',
      'abc',
      '--out-dir',
      join(dir, 'v'),
    );

    expect(run.code).toBe(0);
    expect(existsSync(join(dir, 'v', 'verification.pem'))).toBe(true);
    expect(existsSync(join(dir, 'verification.pem'))).toBe(false);
  });

  test('fails with exit code 1 when the CA directory has no CA', async () => {
    const run = await fleetkit('ca', 'verification-cert', '--ca-dir', dir, '--registration-code', 'abc');

    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`fleetkit: error: Cannot read ${join(dir, 'ca.pem')}: no such file\n`);
  });
});

describe('fleetkit device issue', () => {
  beforeEach(async () => {
    await fleetkit('ca', 'create', '--out-dir', join(dir, 'ca'), '--common-name', 'Device CA');
  });

  test('writes <thing>.pem, a 0600 <thing>.key and <thing>.chain.pem that openssl verifies', async () => {
    const run = await fleetkit(
      'device',
      'issue',
      '--ca-dir',
      join(dir, 'ca'),
      '--thing-name',
      'pump-0042',
      '--serial-number',
      'SN-42',
      '--organization',
      'Acme',
      '--organizational-unit',
      'Pumps',
      '--out-dir',
      join(dir, 'out'),
    );

    expect(run.code).toBe(0);
    const caPem = read(join(dir, 'ca', 'ca.pem'));
    const devicePem = read(join(dir, 'out', 'pump-0042.pem'));
    expect(inspectCertificate(devicePem).subject).toEqual({
      CN: 'pump-0042',
      O: 'Acme',
      OU: 'Pumps',
      serialNumber: 'SN-42',
    });
    expect(verify(caPem, devicePem).status).toBe(0);
    expect(certificateText(devicePem)).toContain('TLS Web Client Authentication');
    expect(modeOf(join(dir, 'out', 'pump-0042.key'))).toBe(0o600);
    expect(openssl(['pkey', '-pubout', '-in', join(dir, 'out', 'pump-0042.key')])).toBe(
      certificatePublicKey(devicePem),
    );
    expect(read(join(dir, 'out', 'pump-0042.chain.pem'))).toBe(`${devicePem.trim()}\n${caPem.trim()}\n`);
    expect(run.stdout).toContain(derSha256(devicePem));
  });

  test('writes into the CA directory by default, with the key algorithm and days given', async () => {
    const run = await fleetkit(
      'device',
      'issue',
      '--ca-dir',
      join(dir, 'ca'),
      '--thing-name',
      't1',
      '--days',
      '30',
      '--key-algorithm',
      'RSA_2048',
    );

    expect(run.code).toBe(0);
    const info = inspectCertificate(read(join(dir, 'ca', 't1.pem')));
    expect(info.key).toEqual({ type: 'rsa', bits: 2048 });
    expect(info.notAfter.getTime() - info.notBefore.getTime()).toBe(30 * DAY_MS + 5 * 60_000);
  });

  test('with --csr certifies the CSR key and writes no private key', async () => {
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
        'dev.key',
      ].concat(['-out', 'dev.csr', '-subj', '/CN=whatever']),
      { cwd: dir },
    );

    const run = await fleetkit(
      'device',
      'issue',
      '--ca-dir',
      join(dir, 'ca'),
      '--thing-name',
      't1',
      '--csr',
      join(dir, 'dev.csr'),
      '--out-dir',
      join(dir, 'out'),
    );

    expect(run.code).toBe(0);
    expect(existsSync(join(dir, 'out', 't1.key'))).toBe(false);
    expect(run.stdout).toContain('none written: the device keeps the key of its CSR');
    const devicePem = read(join(dir, 'out', 't1.pem'));
    expect(certificatePublicKey(devicePem)).toBe(
      openssl(['req', '-noout', '-pubkey', '-in', join(dir, 'dev.csr')]),
    );
    expect(inspectCertificate(devicePem).subject).toEqual({ CN: 't1' });
  });

  test('fails with exit code 1, naming both dates, when --days outlives the CA', async () => {
    await fleetkit('ca', 'create', '--out-dir', join(dir, 'short'), '--days', '10');

    const run = await fleetkit(
      'device',
      'issue',
      '--ca-dir',
      join(dir, 'short'),
      '--thing-name',
      't1',
      '--days',
      '11',
    );

    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^fleetkit: error: A certificate valid for 11 days would expire on \S+Z, after its CA expires on \S+Z; ask for at most (9|10) days/,
    );
    expect(existsSync(join(dir, 'short', 't1.pem'))).toBe(false);
  });

  test('refuses to overwrite an existing device key (exit 1) and writes nothing', async () => {
    const argv = ['device', 'issue', '--ca-dir', join(dir, 'ca'), '--thing-name', 't1'];
    await fleetkit(...argv);
    const key = read(join(dir, 'ca', 't1.key'));

    const run = await fleetkit(...argv);

    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/already exists; refusing to overwrite it\. Pass --force to replace it\.\n$/);
    expect(read(join(dir, 'ca', 't1.key'))).toBe(key);
    expect((await fleetkit(...argv, '--force')).code).toBe(0);
  });

  test('fails with exit code 1 when the CSR file is missing', async () => {
    const run = await fleetkit(
      'device',
      'issue',
      '--ca-dir',
      join(dir, 'ca'),
      '--thing-name',
      't1',
      '--csr',
      join(dir, 'missing.csr'),
    );

    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`fleetkit: error: Cannot read the CSR ${join(dir, 'missing.csr')}: ENOENT\n`);
  });
});

describe('fleetkit cert inspect', () => {
  test('shows subject, issuer, serial, validity, days left, key, certificate id and CA flag', async () => {
    await fleetkit('ca', 'create', '--out-dir', dir, '--organization', 'Acme, Inc.');
    const pem = read(join(dir, 'ca.pem'));
    const info = inspectCertificate(pem);

    const run = await fleetkit('cert', 'inspect', join(dir, 'ca.pem'));

    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Subject:         O=Acme\\, Inc., CN=Fleetkit Device CA\n');
    expect(run.stdout).toContain(`Serial number:   ${info.serialNumber}\n`);
    expect(run.stdout).toMatch(
      /Not after: +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \((3649|3650) day\(s\) left\)/,
    );
    expect(run.stdout).toContain('Key:             EC P-256\n');
    expect(run.stdout).toContain(`Certificate id:  ${derSha256(pem)}\n`);
    expect(run.stdout).toContain('CA:              yes\n');
  });

  test('--json prints exact values', async () => {
    const ca = await createCertificateAuthority({ subject: { CN: 'CA' } });
    const device = await issueDeviceCertificate({ ca, subject: { CN: 'a "b", c\\d', L: 'Zürich' } });
    writeFileSync(join(dir, 'device.pem'), device.certificatePem);

    const run = await fleetkit('cert', 'inspect', join(dir, 'device.pem'), '--json');

    expect(run.code).toBe(0);
    const json = JSON.parse(run.stdout);
    expect(json.subject).toEqual({ CN: 'a "b", c\\d', L: 'Zürich' });
    expect(json.issuer).toEqual({ CN: 'CA' });
    expect(json.isCa).toBe(false);
    expect(json.certificateId).toBe(derSha256(device.certificatePem));
    expect(json.daysLeft).toBe(364);
    expect(new Date(json.notAfter).getTime()).toBe(
      inspectCertificate(device.certificatePem).notAfter.getTime(),
    );
  });

  test('says when a certificate has expired', async () => {
    const now = new Date('2020-01-01T00:00:00Z');
    const ca = await createCertificateAuthority({ subject: { CN: 'Old' }, now });
    const device = await issueDeviceCertificate({ ca, subject: { CN: 'old' }, validityDays: 30, now });
    writeKeyAndCertificate(dir, 'old', { certificatePem: device.certificatePem });

    const run = await fleetkit('cert', 'inspect', join(dir, 'old.pem'));

    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Not after: +2020-01-31 00:00:00 UTC \(expired \d+ day\(s\) ago\)/);
    expect(run.stdout).toContain('CA:              no\n');
  });

  test('fails with exit code 1 and one line for a file that is not a certificate', async () => {
    writeFileSync(join(dir, 'notes.txt'), 'hello');

    const run = await fleetkit('cert', 'inspect', join(dir, 'notes.txt'));

    expect(run.code).toBe(1);
    expect(run.stderr).toBe('fleetkit: error: No "-----BEGIN CERTIFICATE-----" block found in the input.\n');
  });

  test('never prints a private key, even when given one', async () => {
    await fleetkit('ca', 'create', '--out-dir', dir);

    const run = await fleetkit('cert', 'inspect', join(dir, 'ca.key'));

    expect(run.code).toBe(1);
    expect(run.stderr).not.toContain(read(join(dir, 'ca.key')).split('\n')[1]);
  });
});
