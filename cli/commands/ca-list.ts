/**
 * `fleetkit ca list`: every CA certificate registered in the account and region, with status and expiry.
 */
import { DescribeCACertificateCommand, ListCACertificatesCommand } from '@aws-sdk/client-iot';
import { AwsRequestError, call, iotClient, type IotClientProvider } from '../aws-clients';
import { parseOptions, type CliIo, type Command } from '../command';
import { CONCURRENCY, describeExpiry, PAGE_SIZE, summarize, type CaSummary } from './ca-status';

const LIST_HELP = `Usage: fleetkit ca list [--json]

Lists the CA certificates registered in this account and region (ListCACertificates) with their status, mode,
auto-registration, subject and expiry (DescribeCACertificate), soonest expiry first.

Options:
  --json       print JSON instead of text
  -h, --help   show this help

Region, endpoint and credentials come from the AWS SDK's usual settings (AWS_REGION, AWS_PROFILE,
AWS_ENDPOINT_URL).`;

/** `fleetkit ca list`, with the IoT client from `iot`. */
export function createCaListCommand(iot: IotClientProvider): Command {
  return {
    path: ['ca', 'list'],
    summary: 'list the CA certificates registered in the account with their status and expiry',
    help: LIST_HELP,
    async run(args: string[], io: CliIo): Promise<number> {
      const { values } = parseOptions(args, { json: { type: 'boolean' } });
      const cas = await listCas(iot);
      io.stdout.write(values.json ? `${JSON.stringify(cas, null, 2)}\n` : renderCaList(cas));
      return 0;
    },
  };
}

/** `fleetkit ca list`. */
export const caListCommand: Command = createCaListCommand(iotClient);

/**
 * Every CA registered in the account (ListCACertificates, every page), each described (DescribeCACertificate),
 * soonest expiry first.
 */
export async function listCas(iot: IotClientProvider, now = new Date()): Promise<CaSummary[]> {
  const ids: string[] = [];
  let marker: string | undefined;
  do {
    const page = await call('ListCACertificates', () =>
      iot().send(new ListCACertificatesCommand({ pageSize: PAGE_SIZE, marker })),
    );
    for (const ca of page.certificates ?? []) if (ca.certificateId) ids.push(ca.certificateId);
    marker = page.nextMarker ?? undefined;
  } while (marker !== undefined);

  const summaries: CaSummary[] = [];
  for (let i = 0; i < ids.length; i += CONCURRENCY) {
    summaries.push(
      ...(await Promise.all(
        ids.slice(i, i + CONCURRENCY).map(async (id) => {
          try {
            const out = await iot().send(new DescribeCACertificateCommand({ certificateId: id }));
            return summarize(id, out.certificateDescription, now);
          } catch (error) {
            if ((error as { name?: string }).name === 'ResourceNotFoundException') {
              return { caCertificateId: id, problem: 'deleted while being read' };
            }
            throw new AwsRequestError(`DescribeCACertificate ${id}`, error);
          }
        }),
      )),
    );
  }
  const key = (ca: CaSummary) => ca.daysLeft ?? Number.POSITIVE_INFINITY;
  return summaries.sort((a, b) => key(a) - key(b) || a.caCertificateId.localeCompare(b.caCertificateId));
}

/** The CA list as aligned text. */
export function renderCaList(cas: readonly CaSummary[]): string {
  if (cas.length === 0) return 'No CA certificates are registered in this account and region.\n';
  return `${cas
    .map((ca) =>
      [
        ca.caCertificateId,
        (ca.status ?? 'unknown').padEnd(8),
        (ca.certificateMode ?? '-').padEnd(8),
        `auto-registration ${ca.autoRegistration ?? 'unknown'}`,
        ca.commonName !== undefined ? `"${ca.commonName}"` : '',
        describeExpiry(ca.notAfter, ca.daysLeft, ca.problem),
      ]
        .filter(Boolean)
        .join('  '),
    )
    .join('\n')}\n`;
}
