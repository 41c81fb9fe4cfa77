/**
 * The end state of an onboarding storm, read from the registry and judged device by device.
 *
 * Every certificate must end in one of two states: ACTIVE with its thing, the device policy and the thing
 * principal attached (and the thing in its group), or REVOKED with the reason the handler logged. Anything else
 * is a defect, classified so the report can say what went wrong:
 *
 * | Class                    | Certificate         | Meaning                                                     |
 * |--------------------------|---------------------|-------------------------------------------------------------|
 * | `provisioned`            | ACTIVE              | complete: thing, policy, exclusive attachment, group         |
 * | `revoked`                | REVOKED             | rejected, with a logged reason                               |
 * | `active-incomplete`      | ACTIVE              | activated although a piece is missing                        |
 * | `wrongly-activated`      | ACTIVE              | a certificate the rules reject was activated                 |
 * | `wrongly-revoked`        | REVOKED             | a certificate the rules accept was revoked                   |
 * | `revoked-without-reason` | REVOKED             | revoked, but no reason was logged                            |
 * | `half-provisioned`       | not ACTIVE/REVOKED  | a thing or an attachment exists but the certificate is not ACTIVE |
 * | `lost`                   | not ACTIVE/REVOKED  | nothing was done: no thing, no attachment                    |
 */
import {
  DescribeCertificateCommand,
  type IoTClient,
  ListCertificatesByCACommand,
  ListPrincipalThingsCommand,
  ListTargetsForPolicyCommand,
  ListThingsCommand,
  ListThingsInThingGroupCommand,
  ResourceNotFoundException,
  type ListCertificatesByCACommandOutput,
  type ListPrincipalThingsCommandOutput,
  type ListTargetsForPolicyCommandOutput,
  type ListThingsCommandOutput,
  type ListThingsInThingGroupCommandOutput,
} from '@aws-sdk/client-iot';

/** A device of the storm and what the onboarding rules should make of it. */
export interface ExpectedDevice {
  readonly certificateId: string;
  readonly certificateArn: string;
  readonly thingName: string;
  /** `provision` for certificates the rules accept, `reject` for ones they refuse. */
  readonly expected: 'provision' | 'reject';
  /** The static group the rules put the thing in. @default - none */
  readonly thingGroupName?: string;
}

/**
 * The parts of the registry the end-state check reads. A fake one is a plain object; {@link readRegistryState}
 * fills one from AWS IoT (or the emulator).
 */
export interface RegistryState {
  /** Certificate ID to status. A certificate that does not exist is absent. */
  readonly certificateStatus: ReadonlyMap<string, string>;
  /** Names of the things that exist. */
  readonly things: ReadonlySet<string>;
  /** Certificate ARNs the device policy is attached to. */
  readonly policyTargets: ReadonlySet<string>;
  /** Certificate ARN to the things it is attached to. */
  readonly principalThings: ReadonlyMap<string, readonly string[]>;
  /** Thing name to the static groups it belongs to (only the groups read). */
  readonly thingGroups: ReadonlyMap<string, readonly string[]>;
}

/** Every class a device can end in; the first two are the good ones. */
export const DEVICE_CLASSES = [
  'provisioned',
  'revoked',
  'active-incomplete',
  'wrongly-activated',
  'wrongly-revoked',
  'revoked-without-reason',
  'half-provisioned',
  'lost',
] as const;

/** The class a device ends in. */
export type DeviceClass = (typeof DEVICE_CLASSES)[number];

/** A device's class and what is missing or wrong. */
export interface DeviceVerdict {
  readonly device: ExpectedDevice;
  readonly status: string | undefined;
  readonly class: DeviceClass;
  readonly problems: readonly string[];
}

/**
 * Classifies one device.
 *
 * @param rejectionReason the reason the handler logged when it revoked the certificate, if any.
 */
export function classifyDevice(
  device: ExpectedDevice,
  state: RegistryState,
  rejectionReason: string | undefined,
): DeviceVerdict {
  const status = state.certificateStatus.get(device.certificateId);
  const attachedThings = state.principalThings.get(device.certificateArn) ?? [];
  const thingExists = state.things.has(device.thingName);
  const policyAttached = state.policyTargets.has(device.certificateArn);
  const verdict = (cls: DeviceClass, problems: string[] = []): DeviceVerdict => ({
    device,
    status,
    class: cls,
    problems,
  });

  if (status === 'ACTIVE') {
    if (device.expected === 'reject')
      return verdict('wrongly-activated', ['the rules reject this certificate']);
    const problems: string[] = [];
    if (!thingExists) problems.push(`thing ${device.thingName} does not exist`);
    if (!policyAttached) problems.push('device policy not attached to the certificate');
    if (attachedThings.length !== 1 || attachedThings[0] !== device.thingName) {
      problems.push(
        `certificate attached to [${attachedThings.join(', ')}], expected exactly [${device.thingName}]`,
      );
    }
    if (device.thingGroupName !== undefined) {
      const groups = state.thingGroups.get(device.thingName) ?? [];
      if (!groups.includes(device.thingGroupName)) {
        problems.push(`thing not in group ${device.thingGroupName}`);
      }
    }
    return verdict(problems.length === 0 ? 'provisioned' : 'active-incomplete', problems);
  }
  if (status === 'REVOKED') {
    if (device.expected === 'provision')
      return verdict('wrongly-revoked', ['the rules accept this certificate']);
    if (rejectionReason === undefined)
      return verdict('revoked-without-reason', ['no rejection reason logged']);
    return verdict('revoked', []);
  }
  const traces: string[] = [];
  if (thingExists) traces.push(`thing ${device.thingName} exists`);
  if (policyAttached) traces.push('device policy attached');
  if (attachedThings.length > 0) traces.push(`attached to [${attachedThings.join(', ')}]`);
  const where = status === undefined ? 'certificate not found' : `certificate ${status}`;
  return traces.length > 0 ? verdict('half-provisioned', [where, ...traces]) : verdict('lost', [where]);
}

/** Counts per class, the devices in each bad class, and whether the end state is clean. */
export interface EndStateSummary {
  readonly counts: Readonly<Record<DeviceClass, number>>;
  /** Devices in a class other than `provisioned` and `revoked`. */
  readonly defects: readonly DeviceVerdict[];
  /** True when every device is provisioned or revoked. */
  readonly clean: boolean;
}

/** Classifies every device. */
export function summarizeEndState(
  devices: readonly ExpectedDevice[],
  state: RegistryState,
  rejectionReasons: ReadonlyMap<string, string>,
): EndStateSummary {
  const counts = Object.fromEntries(DEVICE_CLASSES.map((c) => [c, 0])) as Record<DeviceClass, number>;
  const defects: DeviceVerdict[] = [];
  for (const device of devices) {
    const verdict = classifyDevice(device, state, rejectionReasons.get(device.certificateId));
    counts[verdict.class] += 1;
    if (verdict.class !== 'provisioned' && verdict.class !== 'revoked') defects.push(verdict);
  }
  return { counts, defects, clean: defects.length === 0 };
}

/** What {@link readRegistryState} reads. */
export interface RegistryScope {
  readonly caCertificateId: string;
  readonly policyName: string;
  readonly groupNames: readonly string[];
  readonly devices: readonly ExpectedDevice[];
  /** Parallel requests for the per-certificate reads. @default 8 */
  readonly concurrency?: number;
}

/**
 * Reads the registry state of the storm's devices: certificate statuses (by CA), things, the device policy's
 * targets, each group's members and each certificate's things. Paginates where AWS does.
 */
export async function readRegistryState(iot: IoTClient, scope: RegistryScope): Promise<RegistryState> {
  // A hard bound on pagination, so that an endpoint that keeps returning a next token cannot hang the bench.
  let pages = 0;
  const maxPages = 100 + scope.devices.length * 2;
  const pageLimit = (): true => {
    pages += 1;
    if (pages > maxPages)
      throw new Error(`readRegistryState: more than ${maxPages} pages; the endpoint keeps paginating`);
    return true;
  };
  const certificateStatus = new Map<string, string>();
  let marker: string | undefined;
  do {
    const page: ListCertificatesByCACommandOutput = await iot.send(
      new ListCertificatesByCACommand({ caCertificateId: scope.caCertificateId, pageSize: 250, marker }),
    );
    for (const c of page.certificates ?? []) {
      if (c.certificateId && c.status) certificateStatus.set(c.certificateId, c.status);
    }
    marker = page.nextMarker || undefined;
  } while (marker !== undefined && pageLimit());
  // A certificate not listed under the CA (should not happen) is looked up directly.
  for (const device of scope.devices) {
    if (certificateStatus.has(device.certificateId)) continue;
    try {
      const { certificateDescription } = await iot.send(
        new DescribeCertificateCommand({ certificateId: device.certificateId }),
      );
      if (certificateDescription?.status)
        certificateStatus.set(device.certificateId, certificateDescription.status);
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
  }

  const things = new Set<string>();
  let nextToken: string | undefined;
  do {
    const page: ListThingsCommandOutput = await iot.send(
      new ListThingsCommand({ maxResults: 250, nextToken }),
    );
    for (const t of page.things ?? []) if (t.thingName) things.add(t.thingName);
    nextToken = page.nextToken || undefined;
  } while (nextToken !== undefined && pageLimit());

  const policyTargets = new Set<string>();
  marker = undefined;
  do {
    const page: ListTargetsForPolicyCommandOutput = await iot.send(
      new ListTargetsForPolicyCommand({ policyName: scope.policyName, pageSize: 250, marker }),
    );
    for (const target of page.targets ?? []) policyTargets.add(target);
    marker = page.nextMarker || undefined;
  } while (marker !== undefined && pageLimit());

  const thingGroups = new Map<string, string[]>();
  for (const group of scope.groupNames) {
    nextToken = undefined;
    do {
      const page: ListThingsInThingGroupCommandOutput = await iot.send(
        new ListThingsInThingGroupCommand({ thingGroupName: group, maxResults: 250, nextToken }),
      );
      for (const thing of page.things ?? []) {
        const groups = thingGroups.get(thing) ?? [];
        groups.push(group);
        thingGroups.set(thing, groups);
      }
      nextToken = page.nextToken || undefined;
    } while (nextToken !== undefined && pageLimit());
  }

  const principalThings = new Map<string, string[]>();
  let next = 0;
  const worker = async () => {
    while (next < scope.devices.length) {
      const device = scope.devices[next++]!;
      const names: string[] = [];
      let token: string | undefined;
      do {
        const page: ListPrincipalThingsCommandOutput = await iot.send(
          new ListPrincipalThingsCommand({
            principal: device.certificateArn,
            maxResults: 250,
            nextToken: token,
          }),
        );
        names.push(...(page.things ?? []));
        token = page.nextToken || undefined;
      } while (token !== undefined && pageLimit());
      principalThings.set(device.certificateArn, names);
    }
  };
  await Promise.all(Array.from({ length: scope.concurrency ?? 8 }, worker));
  return { certificateStatus, things, policyTargets, principalThings, thingGroups };
}
