/**
 * `fleetkit ca status`: one CA as AWS IoT holds it, with its expiry, its device certificates by status and the
 * ones that expire soonest.
 */
import { join, resolve } from 'node:path';
import {
  DescribeCACertificateCommand,
  DescribeCertificateCommand,
  ListCertificatesByCACommand,
  type CACertificateDescription,
} from '@aws-sdk/client-iot';
import { CertificateParseError, inspectCertificate } from '../../core/certificates/inspect';
import { messageOf, nameOf } from '../../core/errors';
import { IOT_LIST_PAGE_SIZE_MAX } from '../../core/limits';
import { CA_EXPIRY_WARNING_DAYS } from '../../core/metrics';
import { daysToExpiry } from '../../core/time';
import { AwsRequestError, call, type AwsClients, type IotClientProvider } from '../aws-clients';
import { AWS_SETTINGS_NOTE, defineCommand, type CliIo, type Command } from '../command';
import { JSON_OUTPUT } from '../common-options';
import { summarize, type CaSummary } from '../lib/ca-summary';
import { DESCRIBE_CONCURRENCY, mapConcurrently } from '../lib/concurrency';
import { describeCaExpiry } from '../lib/format';
import { readTextFile } from '../lib/files';
import { matching, wholeNumber } from '../option-values';

/** Report progress on stderr every this many DescribeCertificate calls. */
const PROGRESS_EVERY = 25;

/** A device certificate's expiry. */
export interface DeviceCertificateExpiry {
  readonly certificateId: string;
  readonly status?: string;
  readonly notAfter?: string;
  readonly daysLeft?: number;
  readonly problem?: string;
}

/** What `ca status` reports. */
export interface CaStatusReport extends CaSummary {
  readonly deviceCertificates: {
    readonly total: number;
    readonly byStatus: Readonly<Record<string, number>>;
  };
  readonly soonestExpiring: {
    /** Device certificates read with DescribeCertificate. */
    readonly checked: number;
    /** ACTIVE device certificates there are to read. */
    readonly active: number;
    readonly certificates: readonly DeviceCertificateExpiry[];
  };
}

/** `fleetkit ca status`, with the IoT client from `iot`. */
export function createCaStatusCommand({ iot }: Pick<AwsClients, 'iot'>): Command {
  return defineCommand({
    path: ['ca', 'status'],
    summary: "show a CA's status, expiry and device certificates (counts by status, soonest expiring)",
    description: `Shows a CA certificate as AWS IoT holds it: status, mode (DEFAULT or SNI_ONLY), auto-registration, expiry and
days left (flagged under ${CA_EXPIRY_WARNING_DAYS}); how many device certificates it issued, by status (ListCertificatesByCA);
and the device certificates that expire soonest, read with DescribeCertificate from the oldest ACTIVE ones
(at most --max-describe of them, with progress on stderr).`,
    options: {
      'ca-certificate-id': {
        type: 'string',
        valueName: 'ID',
        parse: matching(/^[0-9a-fA-F]{64}$/, '64 hex characters', (id) => id.toLowerCase()),
        description: 'the CA certificate ID (64 hex characters)',
      },
      'ca-dir': {
        type: 'string',
        valueName: 'DIR',
        description: 'a CA directory: the ID is computed from DIR/ca.pem',
      },
      'max-describe': {
        type: 'string',
        valueName: 'N',
        parse: wholeNumber,
        default: '50',
        description: 'device certificates to read for their expiry; 0 reads none',
      },
      soonest: {
        type: 'string',
        valueName: 'N',
        parse: wholeNumber,
        default: '10',
        description: 'how many soonest-expiring device certificates to list',
      },
      json: JSON_OUTPUT,
    },
    oneOf: [['ca-certificate-id', 'ca-dir']],
    footer: `${AWS_SETTINGS_NOTE}
See https://docs.aws.amazon.com/iot/latest/developerguide/manage-your-CA-certs.html`,
    async run({ values }, io) {
      const caCertificateId = values['ca-certificate-id'] ?? certificateIdOf(values['ca-dir']!);
      const report = await caStatusReport(iot, io, caCertificateId, {
        maxDescribe: values['max-describe'],
        soonest: values.soonest,
      });
      io.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : renderCaStatus(report));
      return 0;
    },
  });
}

/** The certificate ID of `dir/ca.pem`. */
function certificateIdOf(dir: string): string {
  const path = join(resolve(dir), 'ca.pem');
  const pem = readTextFile(path);
  try {
    return inspectCertificate(pem).certificateId;
  } catch (error) {
    if (error instanceof CertificateParseError)
      throw new Error(`${path}: ${error.message}`, { cause: error });
    throw error;
  }
}

/**
 * Gathers what `ca status` prints: DescribeCACertificate; ListCertificatesByCA, every page; DescribeCertificate
 * on at most `maxDescribe` of the oldest ACTIVE device certificates (the likeliest to expire first when
 * validities are alike), keeping the `soonest` that expire first.
 */
export async function caStatusReport(
  iot: IotClientProvider,
  io: CliIo,
  caCertificateId: string,
  options: { maxDescribe: number; soonest: number },
  now = new Date(),
): Promise<CaStatusReport> {
  let description: CACertificateDescription | undefined;
  try {
    description = (await iot().send(new DescribeCACertificateCommand({ certificateId: caCertificateId })))
      .certificateDescription;
  } catch (error) {
    if (nameOf(error) === 'ResourceNotFoundException') {
      throw new Error(`No CA certificate ${caCertificateId} is registered in this account and region.`, {
        cause: error,
      });
    }
    throw new AwsRequestError('DescribeCACertificate', error);
  }
  const summary = summarize(caCertificateId, description, now);

  const certificates: { certificateId: string; status: string; creationDate: number }[] = [];
  let marker: string | undefined;
  let pages = 0;
  do {
    const page = await call('ListCertificatesByCA', () =>
      iot().send(
        new ListCertificatesByCACommand({
          caCertificateId,
          pageSize: IOT_LIST_PAGE_SIZE_MAX.value,
          marker,
          ascendingOrder: true,
        }),
      ),
    );
    for (const certificate of page.certificates ?? []) {
      if (certificate.certificateId === undefined) continue;
      certificates.push({
        certificateId: certificate.certificateId,
        status: certificate.status ?? 'UNKNOWN',
        creationDate: certificate.creationDate?.getTime() ?? 0,
      });
    }
    marker = page.nextMarker ?? undefined;
    pages += 1;
    if (marker !== undefined) {
      io.stderr.write(
        `fleetkit: ${certificates.length} device certificates listed, fetching page ${pages + 1}...\n`,
      );
    }
  } while (marker !== undefined);

  const byStatus: Record<string, number> = {};
  for (const { status } of certificates) byStatus[status] = (byStatus[status] ?? 0) + 1;

  const active = certificates
    .filter((c) => c.status === 'ACTIVE')
    .sort((a, b) => a.creationDate - b.creationDate);
  const toRead = active.slice(0, options.maxDescribe);
  const reportProgress = toRead.length > PROGRESS_EVERY;
  if (reportProgress) {
    io.stderr.write(
      `fleetkit: reading the expiry of ${toRead.length} of ${active.length} ACTIVE device certificates...\n`,
    );
  }
  const read = await mapConcurrently(toRead, (c) => deviceExpiry(iot, c.certificateId, now), {
    concurrency: DESCRIBE_CONCURRENCY,
    onDone: (done) => {
      if (reportProgress && (done % PROGRESS_EVERY === 0 || done === toRead.length)) {
        io.stderr.write(`fleetkit: read ${done} of ${toRead.length} device certificates\n`);
      }
    },
  });
  const soonest = read
    .filter((c) => c.daysLeft !== undefined)
    .sort((a, b) => a.daysLeft! - b.daysLeft!)
    .slice(0, options.soonest);
  const unreadable = read.filter((c) => c.daysLeft === undefined);

  return {
    ...summary,
    deviceCertificates: { total: certificates.length, byStatus },
    soonestExpiring: {
      checked: read.length,
      active: active.length,
      certificates: [...soonest, ...unreadable.slice(0, Math.max(0, options.soonest - soonest.length))],
    },
  };
}

async function deviceExpiry(
  iot: IotClientProvider,
  certificateId: string,
  now: Date,
): Promise<DeviceCertificateExpiry> {
  let description;
  try {
    description = (await iot().send(new DescribeCertificateCommand({ certificateId })))
      .certificateDescription;
  } catch (error) {
    if (nameOf(error) === 'ResourceNotFoundException') {
      return { certificateId, problem: 'deleted while being read' };
    }
    throw new AwsRequestError(`DescribeCertificate ${certificateId}`, error);
  }
  const base = { certificateId, ...(description?.status ? { status: description.status } : {}) };
  if (!description?.certificatePem) return { ...base, problem: 'AWS IoT returned no PEM for it' };
  try {
    const { notAfter } = inspectCertificate(description.certificatePem);
    return { ...base, notAfter: notAfter.toISOString(), daysLeft: daysToExpiry(notAfter, now) };
  } catch (error) {
    return { ...base, problem: `its PEM cannot be read: ${messageOf(error)}` };
  }
}

/** The status report as aligned text. */
export function renderCaStatus(report: CaStatusReport): string {
  const { byStatus, total } = report.deviceCertificates;
  const counts = Object.entries(byStatus)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([status, n]) => `${status} ${n}`)
    .join(', ');
  const { checked, active, certificates } = report.soonestExpiring;
  const lines = [
    `CA certificate:       ${report.caCertificateId}${report.commonName ? ` ("${report.commonName}")` : ''}`,
    `Status:               ${report.status ?? 'unknown'}`,
    `Mode:                 ${report.certificateMode ?? 'unknown'}`,
    `Auto-registration:    ${report.autoRegistration ?? 'unknown'}`,
    `Expires:              ${describeCaExpiry(report.notAfter, report.daysLeft, report.problem)}`,
    `Device certificates:  ${total}${total > 0 ? ` (${counts})` : ''}`,
  ];
  if (active > 0) {
    lines.push(
      `Soonest to expire (of the ${checked} oldest of ${active} ACTIVE read):`,
      ...certificates.map(
        (c) =>
          `  ${c.certificateId}  ${c.status ?? ''}  ${describeCaExpiry(c.notAfter, c.daysLeft, c.problem)}`,
      ),
    );
  }
  return `${lines.join('\n')}\n`;
}
