import * as fs from 'node:fs';
import { join } from 'node:path';
import {
  KeyAndCertificateReadError,
  OutputFileExistsError,
  readKeyAndCertificate,
  writeKeyAndCertificate,
  writeOutputFile,
} from '../../../core/certificates/files';
import { pemBoundary, PKCS8_PRIVATE_KEY_LABEL } from '../../../core/certificates/pem';
import { removeDirectory, temporaryDirectory } from './openssl';

/** Placeholder PEM text (base64 of "cert", "key", ...), not key material: these tests check modes and overwrites. */
const placeholder = (label: string, base64: string) =>
  `${pemBoundary('BEGIN', label)}\n${base64}\n${pemBoundary('END', label)}\n`;
const PAIR = {
  certificatePem: placeholder('CERTIFICATE', 'Y2VydA=='),
  privateKeyPem: placeholder(PKCS8_PRIVATE_KEY_LABEL, 'a2V5'),
};
const OTHER = {
  certificatePem: placeholder('CERTIFICATE', 'b3RoZXI='),
  privateKeyPem: placeholder(PKCS8_PRIVATE_KEY_LABEL, 'b3RoZXIga2V5'),
};

const modeOf = (path: string) => fs.statSync(path).mode & 0o777;

let dir: string;
beforeEach(() => {
  dir = temporaryDirectory();
});
afterEach(() => {
  jest.restoreAllMocks();
  removeDirectory(dir);
});

describe('writeKeyAndCertificate', () => {
  test('writes <base>.pem readable by all and <base>.key with mode 0600', () => {
    const written = writeKeyAndCertificate(dir, 'device', PAIR);

    expect(written).toEqual({
      certificatePath: join(dir, 'device.pem'),
      privateKeyPath: join(dir, 'device.key'),
    });
    expect(fs.readFileSync(join(dir, 'device.pem'), 'utf8')).toBe(PAIR.certificatePem);
    expect(fs.readFileSync(join(dir, 'device.key'), 'utf8')).toBe(PAIR.privateKeyPem);
    expect(modeOf(join(dir, 'device.key'))).toBe(0o600);
    expect(modeOf(join(dir, 'device.pem')) & 0o444).toBe(0o444);
    expect(modeOf(join(dir, 'device.pem')) & 0o022).toBe(0);
  });

  test('creates the key file with mode 0600 in the open call, never with chmod afterwards', () => {
    // The core module object itself: `import * as` gives a frozen namespace copy that cannot be spied on.
    const realFs = jest.requireActual<typeof fs>('node:fs');
    const open = jest.spyOn(realFs, 'openSync');
    const chmod = jest.spyOn(realFs, 'chmodSync');
    const fchmod = jest.spyOn(realFs, 'fchmodSync');

    writeKeyAndCertificate(dir, 'device', PAIR);

    expect(open).toHaveBeenCalledWith(join(dir, 'device.key'), 'wx', 0o600);
    expect(open).toHaveBeenCalledWith(join(dir, 'device.pem'), 'wx', 0o644);
    expect(chmod).not.toHaveBeenCalled();
    expect(fchmod).not.toHaveBeenCalled();
  });

  test('creates the directory, private to its owner, when it is missing', () => {
    const nested = join(dir, 'a', 'b');

    writeKeyAndCertificate(nested, 'ca', PAIR);

    expect(fs.existsSync(join(nested, 'ca.key'))).toBe(true);
    expect(modeOf(nested)).toBe(0o700);
  });

  test('refuses to overwrite an existing key and leaves both files as they were', () => {
    writeKeyAndCertificate(dir, 'ca', PAIR);

    expect(() => writeKeyAndCertificate(dir, 'ca', OTHER)).toThrow(OutputFileExistsError);
    expect(fs.readFileSync(join(dir, 'ca.key'), 'utf8')).toBe(PAIR.privateKeyPem);
    expect(fs.readFileSync(join(dir, 'ca.pem'), 'utf8')).toBe(PAIR.certificatePem);
  });

  test('writes nothing when only the certificate exists', () => {
    fs.writeFileSync(join(dir, 'ca.pem'), 'existing');

    expect(() => writeKeyAndCertificate(dir, 'ca', PAIR)).toThrow(`${join(dir, 'ca.pem')} already exists`);
    expect(fs.existsSync(join(dir, 'ca.key'))).toBe(false);
  });

  test('with force, replaces both files and the key is 0600 even if the old one was not', () => {
    writeKeyAndCertificate(dir, 'ca', PAIR);
    fs.chmodSync(join(dir, 'ca.key'), 0o644);

    writeKeyAndCertificate(dir, 'ca', OTHER, { force: true });

    expect(fs.readFileSync(join(dir, 'ca.key'), 'utf8')).toBe(OTHER.privateKeyPem);
    expect(fs.readFileSync(join(dir, 'ca.pem'), 'utf8')).toBe(OTHER.certificatePem);
    expect(modeOf(join(dir, 'ca.key'))).toBe(0o600);
    expect(fs.readdirSync(dir).sort()).toEqual(['ca.key', 'ca.pem']);
  });

  test('writes only the certificate when there is no private key', () => {
    const written = writeKeyAndCertificate(dir, 'device', { certificatePem: PAIR.certificatePem });

    expect(written).toEqual({ certificatePath: join(dir, 'device.pem') });
    expect(fs.readdirSync(dir)).toEqual(['device.pem']);
  });
});

describe('writeOutputFile', () => {
  const path = () => join(dir, 'ca.kms.json');

  test('creates the file with the given mode', () => {
    writeOutputFile(path(), '{"keyId":"k"}\n', { mode: 0o644 });

    expect(fs.readFileSync(path(), 'utf8')).toBe('{"keyId":"k"}\n');
    expect(modeOf(path())).toBe(0o644 & ~process.umask());
  });

  test('refuses to overwrite without force, leaving the file as it was', () => {
    fs.writeFileSync(path(), 'old');

    expect(() => writeOutputFile(path(), 'new', { mode: 0o644 })).toThrow(new OutputFileExistsError(path()));
    expect(fs.readFileSync(path(), 'utf8')).toBe('old');
  });

  test('replaces the file with force, with the given mode whatever the old one had, leaving no temporary file', () => {
    fs.writeFileSync(path(), 'old', { mode: 0o666 });
    fs.chmodSync(path(), 0o666);

    writeOutputFile(path(), 'new', { mode: 0o600, force: true });

    expect(fs.readFileSync(path(), 'utf8')).toBe('new');
    expect(modeOf(path())).toBe(0o600);
    expect(fs.readdirSync(dir)).toEqual(['ca.kms.json']);
  });
});

describe('readKeyAndCertificate', () => {
  test('reads what writeKeyAndCertificate wrote', () => {
    writeKeyAndCertificate(dir, 'ca', PAIR);

    expect(readKeyAndCertificate(dir, 'ca')).toEqual(PAIR);
  });

  test('fails with KeyAndCertificateReadError naming the missing file', () => {
    fs.writeFileSync(join(dir, 'ca.pem'), PAIR.certificatePem);

    let caught: unknown;
    try {
      readKeyAndCertificate(dir, 'ca');
    } catch (error) {
      caught = error;
    }

    expect(caught).toBeInstanceOf(KeyAndCertificateReadError);
    expect((caught as Error).message).toBe(`Cannot read ${join(dir, 'ca.key')}: no such file`);
    expect((caught as KeyAndCertificateReadError).path).toBe(join(dir, 'ca.key'));
  });
});
