/**
 * The shell handlers for AWS IoT Device Client users (agent/handlers/*.sh), run with bash and openssl on real
 * files with signatures made at test time. Arguments are passed as the Device Client passes them: runAsUser
 * first, then the job document's args.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeSigner, signedImage, startFileServer, type FileServer, type Signer } from '../support/firmware';

const HANDLERS = join(__dirname, '../../agent/handlers');

let work: string;
let certDir: string;
let signer: Signer;
let impostor: Signer;
let files: FileServer;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'fleetkit-handlers-'));
  certDir = join(work, 'certs');
  mkdirSync(certDir);
  [signer, impostor] = await Promise.all([makeSigner(), makeSigner('impostor')]);
  writeFileSync(join(certDir, 'fleet-signer.pem'), signer.certificatePem);
  files = await startFileServer();
});

afterAll(async () => {
  await files.close();
  rmSync(work, { recursive: true, force: true });
});

/** Runs a handler (asynchronously: the download tests' server lives in this process). */
function handler(
  name: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [join(HANDLERS, name), 'root', ...args], {
      env: { PATH: process.env.PATH, FLEETKIT_SIGNING_CERT_DIR: certDir, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status: status ?? -1, stdout, stderr }));
  });
}

function imageFile(name: string, data: Buffer): string {
  const path = join(work, name);
  writeFileSync(path, data);
  return path;
}

describe('fleetkit-verify-signature.sh', () => {
  it('accepts a file signed by the installed signing certificate', async () => {
    const image = signedImage(signer, 4096);
    const path = imageFile('good.bin', image.data);
    const result = await handler('fleetkit-verify-signature.sh', [
      path,
      image.sha256.toUpperCase(),
      image.signature,
      'fleet-signer',
    ]);
    expect(result).toMatchObject({
      status: 0,
      stdout: `verified ${path} with signing certificate fleet-signer\n`,
    });
    expect(existsSync(path)).toBe(true);
  });

  it.each<
    [
      string,
      (image: ReturnType<typeof signedImage>) => { data: Buffer; args: (path: string) => string[] },
      RegExp,
    ]
  >([
    [
      'a tampered file',
      (image) => {
        const data = Buffer.from(image.data);
        data[10] = (data[10]! + 1) % 256;
        return { data, args: (path) => [path, image.sha256, image.signature, 'fleet-signer'] };
      },
      /SHA-256 mismatch/,
    ],
    [
      'a tampered file with a matching digest',
      (image) => {
        const data = Buffer.from(image.data);
        data[10] = (data[10]! + 1) % 256;
        const sha = createHash('sha256').update(data).digest('hex');
        return { data, args: (path) => [path, sha, image.signature, 'fleet-signer'] };
      },
      /the signature does not verify with signing certificate "fleet-signer"/,
    ],
    [
      'a signature by another key',
      () => {
        const other = signedImage(impostor, 4096);
        return { data: other.data, args: (path) => [path, other.sha256, other.signature, 'fleet-signer'] };
      },
      /the signature does not verify/,
    ],
    [
      'a signing certificate that is not installed',
      (image) => ({
        data: image.data,
        args: (path) => [path, image.sha256, image.signature, 'other-signer'],
      }),
      /signing certificate 'other-signer' is not installed/,
    ],
    [
      'a signing certificate name that is a path',
      (image) => ({
        data: image.data,
        args: (path) => [path, image.sha256, image.signature, '../certs/fleet-signer'],
      }),
      /is not a name/,
    ],
  ])('refuses %s and deletes the file', async (_title, make, message) => {
    const { data, args } = make(signedImage(signer, 4096));
    const path = imageFile(`bad-${Math.random().toString(16).slice(2)}.bin`, data);
    const result = await handler('fleetkit-verify-signature.sh', args(path));
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^signature check failed, nothing was applied: /);
    expect(result.stderr).toMatch(message);
    expect(existsSync(path)).toBe(false);
  });

  it('refuses the wrong number of arguments with its usage', async () => {
    expect(await handler('fleetkit-verify-signature.sh', ['only-one'])).toMatchObject({
      status: 2,
      stderr: expect.stringContaining('usage:'),
    });
  });
});

describe('fleetkit-install-firmware.sh and fleetkit-factory-reset.sh', () => {
  it('runs the device installer with the file, package and version, then removes the file', async () => {
    const log = join(work, 'installer.log');
    const installer = join(work, 'installer.sh');
    writeFileSync(installer, `#!/usr/bin/env bash\necho "$@" > ${log}\n`);
    chmodSync(installer, 0o700);
    const path = imageFile('install.bin', Buffer.from('firmware'));
    const result = await handler('fleetkit-install-firmware.sh', [path, 'sensor-fw', '1.2.0'], {
      FLEETKIT_FIRMWARE_INSTALLER: installer,
    });
    expect(result).toMatchObject({ status: 0, stdout: 'installed sensor-fw 1.2.0\n' });
    expect(readFileSync(log, 'utf8')).toBe(`${path} sensor-fw 1.2.0\n`);
    expect(existsSync(path)).toBe(false);
  });

  it('refuses a file that is not there (its signature check deleted it)', async () => {
    const result = await handler(
      'fleetkit-install-firmware.sh',
      [join(work, 'missing.bin'), 'sensor-fw', '1.2.0'],
      {
        FLEETKIT_FIRMWARE_INSTALLER: '/bin/true',
      },
    );
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('does not exist (did its signature check fail?)');
  });

  it('refuses an invalid version', async () => {
    const path = imageFile('v.bin', Buffer.from('x'));
    expect((await handler('fleetkit-install-firmware.sh', [path, 'p', '1 2'])).stderr).toContain(
      "invalid version '1 2'",
    );
  });

  it('runs the device reset program', async () => {
    const marker = join(work, 'reset.done');
    const reset = join(work, 'reset.sh');
    writeFileSync(reset, `#!/usr/bin/env bash\ntouch ${marker}\n`);
    chmodSync(reset, 0o700);
    expect((await handler('fleetkit-factory-reset.sh', [], { FLEETKIT_FACTORY_RESET: reset })).status).toBe(
      0,
    );
    expect(existsSync(marker)).toBe(true);
  });
});

describe('download-file.sh', () => {
  it('downloads to the path, creating its directory, and does not print the presigned query', async () => {
    const data = Buffer.from('downloaded bytes');
    const url = files.put('dl.bin', data);
    const target = join(work, 'deep', 'dir', 'dl.bin');
    const result = await handler('download-file.sh', [url, target]);
    expect(result.status).toBe(0);
    expect(readFileSync(target)).toEqual(data);
    expect(result.stdout + result.stderr).not.toContain('X-Amz-Signature');
  });

  it('fails on HTTP 404 and leaves no partial file', async () => {
    const target = join(work, 'missing.bin');
    const result = await handler('download-file.sh', [
      files.put('x', Buffer.from('x')).replace('/x?', '/nope?'),
      target,
    ]);
    expect(result.status).not.toBe(0);
    expect(existsSync(target)).toBe(false);
    expect(existsSync(`${target}.part`)).toBe(false);
  });

  it.each([
    ['file:///etc/passwd', join('tmp', 'x'), /only http\(s\) URLs/],
    ['http://127.0.0.1/x', '/tmp/../etc/x', /contains '\.\.'/],
  ])('refuses %s -> %s', async (url, path, message) => {
    const result = await handler('download-file.sh', [url, path]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(message);
  });
});
