/**
 * `fleetkit ca list`: every CA certificate registered in the account and region, with status and expiry.
 */
import { DescribeCACertificateCommand, ListCACertificatesCommand } from '@aws-sdk/client-iot';
import { IOT_LIST_PAGE_SIZE_MAX } from '../../core/limits';
import { nameOf } from '../../core/errors';
import { AwsRequestError, call, type AwsClients, type IotClientProvider } from '../aws-clients';
import { AWS_SETTINGS_NOTE, defineCommand, type Command } from '../command';
import { JSON_OUTPUT } from '../common-options';
import { summarize, type CaSummary } from '../lib/ca-summary';
import { mapConcurrently } from '../lib/concurrency';
import { describeCaExpiry } from '../lib/format';

/** `fleetkit ca list`, with the IoT client from `iot`. */
export function createCaListCommand({ iot }: Pick<AwsClients, 'iot'>): Command {
  return defineCommand({
    path: ['ca', 'list'],
    summary: 'list the CA certificates registered in the account with their status and expiry',
    description: `Lists the CA certificates registered in this account and region (ListCACertificates) with their status, mode,
auto-registration, subject and expiry (DescribeCACertificate), soonest expiry first.`,
    options: { json: JSON_OUTPUT },
    footer: AWS_SETTINGS_NOTE,
    async run({ values }, io) {
      const cas = await listCas(iot);
      io.stdout.write(values.json ? `${JSON.stringify(cas, null, 2)}\n` : renderCaList(cas));
      return 0;
    },
  });
}

/**
 * Every CA registered in the account (ListCACertificates, every page), each described (DescribeCACertificate),
 * soonest expiry first.
 */
export async function listCas(iot: IotClientProvider, now = new Date()): Promise<CaSummary[]> {
  const ids: string[] = [];
  let marker: string | undefined;
  do {
    const page = await call('ListCACertificates', () =>
      iot().send(new ListCACertificatesCommand({ pageSize: IOT_LIST_PAGE_SIZE_MAX.value, marker })),
    );
    for (const ca of page.certificates ?? []) if (ca.certificateId) ids.push(ca.certificateId);
    marker = page.nextMarker ?? undefined;
  } while (marker !== undefined);

  const summaries = await mapConcurrently(ids, async (id): Promise<CaSummary> => {
    try {
      const out = await iot().send(new DescribeCACertificateCommand({ certificateId: id }));
      return summarize(id, out.certificateDescription, now);
    } catch (error) {
      if (nameOf(error) === 'ResourceNotFoundException') {
        return { caCertificateId: id, problem: 'deleted while being read' };
      }
      throw new AwsRequestError(`DescribeCACertificate ${id}`, error);
    }
  });
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
        describeCaExpiry(ca.notAfter, ca.daysLeft, ca.problem),
      ]
        .filter(Boolean)
        .join('  '),
    )
    .join('\n')}\n`;
}
