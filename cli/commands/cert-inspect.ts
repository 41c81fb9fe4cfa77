/**
 * `fleetkit cert inspect`: what a certificate says, as AWS IoT will read it.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { inspectCertificate, type CertificateInfo, type CertificateKeyInfo } from '../../core/certificates';
import { formatDate, parseOptions, type CliIo, type Command } from '../command';

const DAY_MS = 24 * 60 * 60 * 1000;

const HELP = `Usage: fleetkit cert inspect FILE [--json]

Shows a PEM certificate's subject, issuer, serial number, validity and days left, key, certificate id (the
SHA-256 of its DER encoding, which is the id AWS IoT gives it) and whether it is a CA. For a chain file, the
first certificate is shown.

Options:
  --json       print JSON instead of text; subject and issuer values are exact, without escaping
  -h, --help   show this help`;

/** `fleetkit cert inspect`. */
export const certInspectCommand: Command = {
  path: ['cert', 'inspect'],
  summary: 'show subject, issuer, validity, key and certificate id of a PEM certificate',
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseOptions(args, { json: { type: 'boolean' } }, { min: 1, max: 1 });
    const path = resolve(positionals[0]!);
    let pem: string;
    try {
      pem = readFileSync(path, 'utf8');
    } catch (error) {
      throw new Error(`Cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {
        cause: error,
      });
    }
    const info = inspectCertificate(pem);
    const daysLeft = Math.floor((info.notAfter.getTime() - Date.now()) / DAY_MS);
    if (values.json) {
      io.stdout.write(`${JSON.stringify({ ...info, daysLeft }, null, 2)}\n`);
      return 0;
    }
    io.stdout.write(
      [
        `Subject:         ${formatName(info.subject)}`,
        `Issuer:          ${formatName(info.issuer)}`,
        `Serial number:   ${info.serialNumber}`,
        `Not before:      ${formatDate(info.notBefore)}`,
        `Not after:       ${formatDate(info.notAfter)} (${describeDaysLeft(info, daysLeft)})`,
        `Key:             ${describeKey(info.key)}`,
        `Certificate id:  ${info.certificateId}`,
        `CA:              ${info.isCa ? 'yes' : 'no'}`,
        '',
      ].join('\n'),
    );
    return 0;
  },
};

/** Describes a key as `EC P-256` or `RSA 2048`. */
export function describeKey(key: CertificateKeyInfo): string {
  switch (key.type) {
    case 'ec':
      return `EC ${key.curve}`;
    case 'rsa':
      return `RSA ${key.bits}`;
    default:
      return key.name;
  }
}

function describeDaysLeft(info: CertificateInfo, daysLeft: number): string {
  if (info.notAfter.getTime() <= Date.now()) return `expired ${Math.max(1, -daysLeft)} day(s) ago`;
  if (info.notBefore.getTime() > Date.now()) return 'not yet valid';
  return `${daysLeft} day(s) left`;
}

/** RFC 4514 escaping, attributes in certificate order; for display only (the JSON output is exact). */
function formatName(name: CertificateInfo['subject']): string {
  const parts = Object.entries(name).map(([field, value]) => `${field}=${escapeValue(value)}`);
  return parts.length > 0 ? parts.join(', ') : '(empty)';
}

function escapeValue(value: string): string {
  return value
    .replace(/[\\,+"<>;=]/g, (char) => `\\${char}`)
    .replace(/^[ #]/, (char) => `\\${char}`)
    .replace(/ $/, '\\ ');
}
