/**
 * `fleetkit ca status`: one CA as AWS IoT holds it, with its expiry, its device certificates by status and the
 * ones that expire soonest.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  DescribeCACertificateCommand,
  DescribeCertificateCommand,
  ListCertificatesByCACommand,
  type CACertificateDescription,
} from '@aws-sdk/client-iot';
import { CertificateParseError, inspectCertificate } from '../../core/certificates/inspect';
import { AwsRequestError, call, iotClient, type IotClientProvider } from '../aws-clients';
import { formatDate, messageOf, parseOptions, UsageError, type CliIo, type Command } from '../command';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Largest page ListCertificatesByCA and ListCACertificates return. */
export const PAGE_SIZE = 250;
/** Describe calls in flight at once (their default rate is 10 per second; adaptive retry absorbs more). */
export const CONCURRENCY = 4;
/** Report progress on stderr every this many DescribeCertificate calls. */
const PROGRESS_EVERY = 25;
const DEFAULT_MAX_DESCRIBE = 50;
const DEFAULT_SOONEST = 10;
/** A CA expiring within this many days is flagged (the same threshold as the expiry alarm). */
export { CA_EXPIRY_WARNING_DAYS as EXPIRY_WARNING_DAYS } from '../../core/metrics';
import { CA_EXPIRY_WARNING_DAYS as EXPIRY_WARNING_DAYS } from '../../core/metrics';

const STATUS_HELP = `Usage: fleetkit ca status (--ca-certificate-id ID | --ca-dir DIR) [options]

Shows a CA certificate as AWS IoT holds it: status, mode (DEFAULT or SNI_ONLY), auto-registration, expiry and
days left (flagged under ${EXPIRY_WARNING_DAYS}); how many device certificates it issued, by status (ListCertificatesByCA);
and the device certificates that expire soonest, read with DescribeCertificate from the oldest ACTIVE ones
(at most --max-describe of them, with progress on stderr).

Options:
  --ca-certificate-id ID   the CA certificate ID (64 hex characters)
  --ca-dir DIR             a CA directory: the ID is computed from DIR/ca.pem
  --max-describe N         device certificates to read for their expiry (default ${DEFAULT_MAX_DESCRIBE}; 0 reads none)
  --soonest N              how many soonest-expiring device certificates to list (default ${DEFAULT_SOONEST})
  --json                   print JSON instead of text
  -h, --help               show this help

Region, endpoint and credentials come from the AWS SDK's usual settings (AWS_REGION, AWS_PROFILE,
AWS_ENDPOINT_URL). See https://docs.aws.amazon.com/iot/latest/developerguide/manage-your-CA-certs.html`;

/** A CA certificate as AWS IoT holds it, with its expiry read from the certificate. */
export interface CaSummary {
  readonly caCertificateId: string;
  readonly caCertificateArn?: string;
  readonly commonName?: string;
  readonly status?: string;
  readonly certificateMode?: string;
  readonly autoRegistration?: string;
  readonly notAfter?: string;
  /** Whole days until `notAfter`, rounded down; negative once expired. */
  readonly daysLeft?: number;
  readonly problem?: string;
}

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
export function createCaStatusCommand(iot: IotClientProvider): Command {
  return {
    path: ['ca', 'status'],
    summary: "show a CA's status, expiry and device certificates (counts by status, soonest expiring)",
    help: STATUS_HELP,
    async run(args: string[], io: CliIo): Promise<number> {
      const { values } = parseOptions(args, {
        'ca-certificate-id': { type: 'string' },
        'ca-dir': { type: 'string' },
        'max-describe': { type: 'string' },
        soonest: { type: 'string' },
        json: { type: 'boolean' },
      });
      const caCertificateId = selectCa(values['ca-certificate-id'], values['ca-dir']);
      const report = await caStatusReport(iot, io, caCertificateId, {
        maxDescribe: count(values['max-describe'], 'max-describe') ?? DEFAULT_MAX_DESCRIBE,
        soonest: count(values.soonest, 'soonest') ?? DEFAULT_SOONEST,
      });
      io.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : renderCaStatus(report));
      return 0;
    },
  };
}

/** `fleetkit ca status`. */
export const caStatusCommand: Command = createCaStatusCommand(iotClient);

function selectCa(id: string | undefined, dir: string | undefined): string {
  if ((id === undefined) === (dir === undefined)) {
    throw new UsageError('Give exactly one of --ca-certificate-id and --ca-dir.');
  }
  if (id !== undefined) {
    if (!/^[0-9a-fA-F]{64}$/.test(id)) {
      throw new UsageError(`--ca-certificate-id must be 64 hex characters; got "${id}".`);
    }
    return id.toLowerCase();
  }
  const path = join(resolve(dir!), 'ca.pem');
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`Cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? messageOf(error)}`, {
      cause: error,
    });
  }
  try {
    return inspectCertificate(pem).certificateId;
  } catch (error) {
    if (error instanceof CertificateParseError)
      throw new Error(`${path}: ${error.message}`, { cause: error });
    throw error;
  }
}

function count(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value))
    throw new UsageError(`--${option} must be a whole number of 0 or more; got "${value}".`);
  return Number(value);
}

/** Whole days from `now` until `notAfter`, rounded down (negative once expired). */
export function daysUntil(notAfter: Date, now: Date): number {
  return Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS);
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
    if ((error as { name?: string }).name === 'ResourceNotFoundException') {
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
          pageSize: PAGE_SIZE,
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
  if (toRead.length > PROGRESS_EVERY) {
    io.stderr.write(
      `fleetkit: reading the expiry of ${toRead.length} of ${active.length} ACTIVE device certificates...\n`,
    );
  }
  const read: DeviceCertificateExpiry[] = [];
  for (let i = 0; i < toRead.length; i += CONCURRENCY) {
    read.push(
      ...(await Promise.all(
        toRead.slice(i, i + CONCURRENCY).map((c) => deviceExpiry(iot, c.certificateId, now)),
      )),
    );
    const done = Math.min(i + CONCURRENCY, toRead.length);
    if (toRead.length > PROGRESS_EVERY && (done % PROGRESS_EVERY < CONCURRENCY || done === toRead.length)) {
      io.stderr.write(`fleetkit: read ${done} of ${toRead.length} device certificates\n`);
    }
  }
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
    if ((error as { name?: string }).name === 'ResourceNotFoundException') {
      return { certificateId, problem: 'deleted while being read' };
    }
    throw new AwsRequestError(`DescribeCertificate ${certificateId}`, error);
  }
  const base = { certificateId, ...(description?.status ? { status: description.status } : {}) };
  if (!description?.certificatePem) return { ...base, problem: 'AWS IoT returned no PEM for it' };
  try {
    const { notAfter } = inspectCertificate(description.certificatePem);
    return { ...base, notAfter: notAfter.toISOString(), daysLeft: daysUntil(notAfter, now) };
  } catch (error) {
    return { ...base, problem: `its PEM cannot be read: ${messageOf(error)}` };
  }
}

/** The CA's fields, with its expiry read from its PEM (what AWS IoT's `validity` reports too). */
export function summarize(
  caCertificateId: string,
  description: CACertificateDescription | undefined,
  now: Date,
): CaSummary {
  const base = {
    caCertificateId,
    ...(description?.certificateArn ? { caCertificateArn: description.certificateArn } : {}),
    ...(description?.status ? { status: description.status } : {}),
    ...(description?.certificateMode ? { certificateMode: description.certificateMode } : {}),
    ...(description?.autoRegistrationStatus ? { autoRegistration: description.autoRegistrationStatus } : {}),
  };
  let notAfter = description?.validity?.notAfter;
  let commonName: string | undefined;
  let problem: string | undefined;
  if (description?.certificatePem) {
    try {
      const info = inspectCertificate(description.certificatePem);
      notAfter = info.notAfter;
      commonName = info.subject.CN;
    } catch (error) {
      problem = `its PEM cannot be read: ${messageOf(error)}`;
    }
  }
  return {
    ...base,
    ...(commonName !== undefined ? { commonName } : {}),
    ...(notAfter !== undefined
      ? { notAfter: notAfter.toISOString(), daysLeft: daysUntil(notAfter, now) }
      : {}),
    ...(problem !== undefined ? { problem } : {}),
  };
}

export function describeExpiry(
  notAfter: string | undefined,
  daysLeft: number | undefined,
  problem?: string,
): string {
  if (notAfter === undefined || daysLeft === undefined)
    return `expiry unknown${problem ? ` (${problem})` : ''}`;
  const left = daysLeft < 0 ? `expired ${-daysLeft} day(s) ago` : `${daysLeft} day(s) left`;
  const flag =
    daysLeft < EXPIRY_WARNING_DAYS ? '  << renew: register its successor and move the devices' : '';
  return `${formatDate(new Date(notAfter))} (${left})${flag}`;
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
    `Expires:              ${describeExpiry(report.notAfter, report.daysLeft, report.problem)}`,
    `Device certificates:  ${total}${total > 0 ? ` (${counts})` : ''}`,
  ];
  if (active > 0) {
    lines.push(
      `Soonest to expire (of the ${checked} oldest of ${active} ACTIVE read):`,
      ...certificates.map(
        (c) =>
          `  ${c.certificateId}  ${c.status ?? ''}  ${describeExpiry(c.notAfter, c.daysLeft, c.problem)}`,
      ),
    );
  }
  return `${lines.join('\n')}\n`;
}
