/**
 * `fleetkit cert inspect`: what a certificate says, as AWS IoT will read it.
 */
import { type CertificateInfo, describeKeyInfo, inspectCertificate } from '../../core/certificates';
import { daysToExpiry } from '../../core/time';
import { defineCommand, type Command } from '../command';
import { readTextFile } from '../lib/files';
import { describeDaysLeft, formatDate } from '../lib/format';

/** `fleetkit cert inspect`. */
export const certInspectCommand: Command = defineCommand({
  path: ['cert', 'inspect'],
  summary: 'show subject, issuer, validity, key and certificate id of a PEM certificate',
  description: `Shows a PEM certificate's subject, issuer, serial number, validity and days left, key, certificate id (the
SHA-256 of its DER encoding, which is the id AWS IoT gives it) and whether it is a CA. For a chain file, the
first certificate is shown.`,
  arguments: [{ name: 'FILE', description: 'the PEM certificate (or chain) to read' }],
  options: {
    json: {
      type: 'boolean',
      description: 'print JSON instead of text; subject and issuer values are exact, without escaping',
    },
  },
  async run({ values, positionals }, io) {
    const info = inspectCertificate(readTextFile(positionals[0]!));
    const now = new Date();
    const daysLeft = daysToExpiry(info.notAfter, now);
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
        `Not after:       ${formatDate(info.notAfter)} (${describeValidity(info, daysLeft, now)})`,
        `Key:             ${describeKeyInfo(info.key)}`,
        `Certificate id:  ${info.certificateId}`,
        `CA:              ${info.isCa ? 'yes' : 'no'}`,
        '',
      ].join('\n'),
    );
    return 0;
  },
});

function describeValidity(info: CertificateInfo, daysLeft: number, now: Date): string {
  if (info.notAfter.getTime() <= now.getTime()) return describeDaysLeft(Math.min(-1, daysLeft));
  if (info.notBefore.getTime() > now.getTime()) return 'not yet valid';
  return describeDaysLeft(daysLeft);
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
