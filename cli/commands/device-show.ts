/**
 * `fleetkit device show`: one thing as AWS IoT holds it, with its groups, certificates and connectivity.
 */
import {
  DescribeCertificateCommand,
  DescribeThingCommand,
  ListThingGroupsForThingCommand,
  ListThingPrincipalsCommand,
  SearchIndexCommand,
  type ThingConnectivity,
} from '@aws-sdk/client-iot';
import { inspectCertificate } from '../../core/certificates/inspect';
import { describeError, messageOf, nameOf } from '../../core/errors';
import { IOT_LIST_PAGE_SIZE_MAX, REGISTRY_LIMITS, THING_NAME_PATTERN } from '../../core/limits';
import { daysToExpiry, wholeDaysSince } from '../../core/time';
import {
  AwsRequestError,
  call,
  readFleetIndexing,
  type AwsClients,
  type IotClientProvider,
} from '../aws-clients';
import { AWS_SETTINGS_NOTE, defineCommand, UsageError, type Command } from '../command';
import { JSON_OUTPUT } from '../common-options';
import { describeAttributes, describeDaysLeft, formatDate } from '../lib/format';

const DESCRIPTION = `Shows a thing as AWS IoT holds it: its thing type and attributes, the thing groups it belongs to, its
certificates (status, expiry and days left, read from each certificate's PEM) and whether it is connected.
Connectivity comes from the fleet index (SearchIndex), so it is known only when fleet indexing indexes
connectivity (thingConnectivityIndexingMode STATUS).`;

/** A certificate attached to the thing. */
export interface DeviceCertificate {
  readonly certificateId: string;
  readonly certificateArn: string;
  readonly status?: string;
  /** From the certificate itself; absent when its PEM could not be read. */
  readonly notAfter?: string;
  /** Whole days until `notAfter`; negative once expired (minus the whole days since, at least 1). */
  readonly daysLeft?: number;
  readonly problem?: string;
}

/** Connectivity from the fleet index, or why it is unknown. */
export type DeviceConnectivity =
  | {
      readonly known: true;
      readonly connected: boolean;
      readonly timestamp?: number;
      readonly disconnectReason?: string;
    }
  | { readonly known: false; readonly reason: string };

/** What `device show` reports. */
export interface DeviceReport {
  readonly thingName: string;
  readonly thingTypeName?: string;
  readonly attributes: Record<string, string>;
  readonly groups: readonly string[];
  readonly certificates: readonly DeviceCertificate[];
  /** Principals that are not X.509 certificates (for example Amazon Cognito identities). */
  readonly otherPrincipals: readonly string[];
  readonly connectivity: DeviceConnectivity;
}

/** `fleetkit device show`, with the IoT client from `iot`. */
export function createDeviceShowCommand({ iot }: Pick<AwsClients, 'iot'>): Command {
  return defineCommand({
    path: ['device', 'show'],
    summary: "show a thing's type, attributes, groups, certificates (with expiry) and connectivity",
    description: DESCRIPTION,
    arguments: [{ name: 'THING_NAME', description: 'the thing to show' }],
    options: { json: JSON_OUTPUT },
    footer: AWS_SETTINGS_NOTE,
    async run({ values, positionals }, io) {
      const thingName = positionals[0]!;
      if (!THING_NAME_PATTERN.test(thingName)) {
        throw new UsageError(
          `THING_NAME must be 1 to ${REGISTRY_LIMITS.thingNameMaxLength.value} characters of letters, digits, ':', '_' and '-'; got "${thingName}".`,
        );
      }
      const report = await deviceReport(iot, thingName);
      io.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : renderDeviceReport(report));
      return 0;
    },
  });
}

/**
 * Gathers what `device show` prints: DescribeThing, ListThingGroupsForThing, ListThingPrincipals and
 * DescribeCertificate for each certificate, and connectivity from SearchIndex when the account indexes it.
 */
export async function deviceReport(
  iot: IotClientProvider,
  thingName: string,
  now = new Date(),
): Promise<DeviceReport> {
  let thing;
  try {
    thing = await iot().send(new DescribeThingCommand({ thingName }));
  } catch (error) {
    if (nameOf(error) === 'ResourceNotFoundException') {
      throw new Error(`No thing named "${thingName}" in this account and region.`, { cause: error });
    }
    throw new AwsRequestError('DescribeThing', error);
  }
  const groups = await listGroups(iot, thingName);
  const principals = await listPrincipals(iot, thingName);
  const certificates: DeviceCertificate[] = [];
  const otherPrincipals: string[] = [];
  for (const principal of principals) {
    const certificateId = /:cert\/([0-9a-f]{64})$/.exec(principal)?.[1];
    if (certificateId === undefined) otherPrincipals.push(principal);
    else certificates.push(await describeCertificate(iot, principal, certificateId, now));
  }
  return {
    thingName,
    ...(thing.thingTypeName ? { thingTypeName: thing.thingTypeName } : {}),
    attributes: thing.attributes ?? {},
    groups,
    certificates,
    otherPrincipals,
    connectivity: await connectivity(iot, thingName),
  };
}

async function listGroups(iot: IotClientProvider, thingName: string): Promise<string[]> {
  const groups: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await call('ListThingGroupsForThing', () =>
      iot().send(
        new ListThingGroupsForThingCommand({
          thingName,
          maxResults: IOT_LIST_PAGE_SIZE_MAX.value,
          nextToken,
        }),
      ),
    );
    for (const group of page.thingGroups ?? []) if (group.groupName) groups.push(group.groupName);
    nextToken = page.nextToken ?? undefined;
  } while (nextToken !== undefined);
  return groups.sort((a, b) => a.localeCompare(b));
}

async function listPrincipals(iot: IotClientProvider, thingName: string): Promise<string[]> {
  const principals: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await call('ListThingPrincipals', () =>
      iot().send(
        new ListThingPrincipalsCommand({ thingName, maxResults: IOT_LIST_PAGE_SIZE_MAX.value, nextToken }),
      ),
    );
    principals.push(...(page.principals ?? []));
    nextToken = page.nextToken ?? undefined;
  } while (nextToken !== undefined);
  return principals;
}

async function describeCertificate(
  iot: IotClientProvider,
  certificateArn: string,
  certificateId: string,
  now: Date,
): Promise<DeviceCertificate> {
  const { certificateDescription: description } = await call(`DescribeCertificate ${certificateId}`, () =>
    iot().send(new DescribeCertificateCommand({ certificateId })),
  );
  const base = {
    certificateId,
    certificateArn,
    ...(description?.status ? { status: description.status } : {}),
  };
  if (!description?.certificatePem) return { ...base, problem: 'AWS IoT returned no PEM for it' };
  try {
    const { notAfter } = inspectCertificate(description.certificatePem);
    // Whole days left; once expired, minus the whole days since (at least 1).
    const daysLeft =
      notAfter.getTime() >= now.getTime()
        ? daysToExpiry(notAfter, now)
        : -Math.max(1, wholeDaysSince(notAfter, now));
    return { ...base, notAfter: notAfter.toISOString(), daysLeft };
  } catch (error) {
    return { ...base, problem: `its PEM cannot be read: ${messageOf(error)}` };
  }
}

/**
 * Connectivity from the fleet index. Unknown, with the reason, when the account does not index connectivity,
 * its indexing configuration cannot be read, or the search fails: the rest of the report is still useful.
 */
async function connectivity(iot: IotClientProvider, thingName: string): Promise<DeviceConnectivity> {
  const lookup = await readFleetIndexing(iot());
  if (!('indexing' in lookup))
    return { known: false, reason: `cannot read the fleet indexing configuration: ${lookup.unavailable}` };
  const { indexing } = lookup;
  if (indexing.thingIndexingMode === 'OFF' || indexing.thingConnectivityIndexingMode !== 'STATUS') {
    return { known: false, reason: 'connectivity indexing is off' };
  }
  let found: ThingConnectivity | undefined;
  try {
    const page = await iot().send(
      new SearchIndexCommand({ indexName: 'AWS_Things', queryString: `thingName:${queryValue(thingName)}` }),
    );
    found = page.things?.find((document) => document.thingName === thingName)?.connectivity;
  } catch (error) {
    return { known: false, reason: `SearchIndex failed: ${describeError(error)}` };
  }
  if (found?.connected === undefined)
    return { known: false, reason: 'the fleet index has no connectivity data for it yet' };
  return {
    known: true,
    connected: found.connected,
    ...(found.timestamp === undefined ? {} : { timestamp: found.timestamp }),
    ...(found.disconnectReason ? { disconnectReason: found.disconnectReason } : {}),
  };
}

/** A thing name as a query value: quoted when it could read as syntax (a leading "-", a ":"). */
function queryValue(thingName: string): string {
  return /^-|:/.test(thingName) ? `"${thingName}"` : thingName;
}

/** The report as aligned text. */
export function renderDeviceReport(report: DeviceReport): string {
  const lines = [
    `Thing:          ${report.thingName}`,
    `Thing type:     ${report.thingTypeName ?? '(none)'}`,
    `Attributes:     ${describeAttributes(report.attributes)}`,
    `Groups:         ${report.groups.length === 0 ? '(none)' : report.groups.join(', ')}`,
    `Certificates:   ${report.certificates.length === 0 ? '(none)' : ''}`.trimEnd(),
    ...report.certificates.map(
      (certificate) => `  ${certificate.certificateId}  ${describeCertificateState(certificate)}`,
    ),
    ...(report.otherPrincipals.length === 0
      ? []
      : [`Other principals: ${report.otherPrincipals.join(', ')}`]),
    `Connectivity:   ${describeConnectivity(report.connectivity)}`,
  ];
  return `${lines.join('\n')}\n`;
}

function describeCertificateState(certificate: DeviceCertificate): string {
  const status = certificate.status ?? 'status unknown';
  if (certificate.notAfter === undefined || certificate.daysLeft === undefined) {
    return `${status}  expiry unknown (${certificate.problem ?? 'not read'})`;
  }
  const expiry = formatDate(new Date(certificate.notAfter));
  return `${status}  expires ${expiry} (${describeDaysLeft(certificate.daysLeft)})`;
}

function describeConnectivity(connectivity: DeviceConnectivity): string {
  if (!connectivity.known) return `unknown (${connectivity.reason})`;
  const state = connectivity.connected ? 'connected' : 'disconnected';
  const since =
    connectivity.timestamp === undefined ? '' : ` since ${formatDate(new Date(connectivity.timestamp))}`;
  const reason =
    connectivity.disconnectReason === undefined ? '' : `, reason ${connectivity.disconnectReason}`;
  return `${state}${since}${reason}`;
}
