/**
 * The real `openssl` command line and throwaway directories, for checking Fleetkit's certificates independently.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The outcome of one openssl run. */
export interface OpensslResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `openssl ...args` and returns its outcome without throwing. */
export function runOpenssl(args: string[], options: { cwd?: string; input?: string } = {}): OpensslResult {
  const result = spawnSync('openssl', args, { cwd: options.cwd, input: options.input, encoding: 'utf8' });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Runs `openssl ...args` and returns stdout; throws with openssl's stderr when it fails. */
export function openssl(args: string[], options: { cwd?: string; input?: string } = {}): string {
  const result = runOpenssl(args, options);
  if (result.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

/** `openssl x509 -text` of a PEM certificate. */
export function certificateText(certificatePem: string): string {
  return openssl(['x509', '-noout', '-text'], { input: certificatePem });
}

/** The PEM SubjectPublicKeyInfo of a certificate, as openssl extracts it. */
export function certificatePublicKey(certificatePem: string): string {
  return openssl(['x509', '-noout', '-pubkey'], { input: certificatePem });
}

/** `openssl verify -CAfile ca [-untrusted intermediates] certificate`, in a scratch directory. */
export function verify(caPem: string, certificatePem: string, intermediatesPem?: string): OpensslResult {
  const dir = temporaryDirectory();
  try {
    writeFileSync(join(dir, 'ca.pem'), caPem);
    writeFileSync(join(dir, 'cert.pem'), certificatePem);
    const args = ['verify', '-CAfile', 'ca.pem'];
    if (intermediatesPem) {
      writeFileSync(join(dir, 'untrusted.pem'), intermediatesPem);
      args.push('-untrusted', 'untrusted.pem');
    }
    return runOpenssl([...args, 'cert.pem'], { cwd: dir });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A self-signed certificate made by `openssl req -x509`; `extraArgs` are added to the command. */
export function opensslSelfSigned(
  subject: string,
  extraArgs: string[] = [],
): { certificatePem: string; privateKeyPem: string } {
  const dir = temporaryDirectory();
  try {
    openssl(
      [
        'req',
        '-x509',
        '-nodes',
        '-utf8',
        '-subj',
        subject,
        '-keyout',
        'key.pem',
        '-out',
        'cert.pem',
        ...withDefaults(extraArgs),
      ],
      { cwd: dir },
    );
    return {
      certificatePem: readFileSync(join(dir, 'cert.pem'), 'utf8'),
      privateKeyPem: readFileSync(join(dir, 'key.pem'), 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function withDefaults(args: string[]): string[] {
  const result = [...args];
  if (!result.includes('-newkey')) result.push('-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256');
  if (!result.includes('-days')) result.push('-days', '30');
  return result;
}

/** A fresh directory under the OS temp dir; remove it with {@link removeDirectory}. */
export function temporaryDirectory(): string {
  return mkdtempSync(join(tmpdir(), 'fleetkit-certificates-test-'));
}

/** Removes a directory made by {@link temporaryDirectory}. */
export function removeDirectory(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
