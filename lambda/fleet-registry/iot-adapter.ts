import {
  AttachPolicyCommand,
  CreateThingTypeCommand,
  DeleteCACertificateCommand,
  DeleteThingTypeCommand,
  DeprecateThingTypeCommand,
  DescribeCACertificateCommand,
  DescribeEventConfigurationsCommand,
  DescribeIndexCommand,
  DescribeThingGroupCommand,
  DescribeThingTypeCommand,
  DetachPolicyCommand,
  GetIndexingConfigurationCommand,
  GetRegistrationCodeCommand,
  IoTClient,
  ListAttachedPoliciesCommand,
  ListCertificatesByCACommand,
  paginateListThingGroups,
  paginateListThings,
  ResourceAlreadyExistsException,
  ResourceNotFoundException,
  RegisterCACertificateCommand,
  UpdateCACertificateCommand,
  UpdateEventConfigurationsCommand,
  UpdateIndexingConfigurationCommand,
  type FieldType,
  type NamedShadowIndexingMode,
  type ThingConnectivityIndexingMode,
  type ThingGroupIndexingMode,
  type ThingIndexingMode,
} from '@aws-sdk/client-iot';
import { awsClientConfig } from '../../core/aws-client-config';
import { isTransientAwsError } from '../../core/aws-errors';
import { EVENT_TYPES, type EventConfigurations, type EventType } from '../../core/events/event-types';
import { IotApiError } from './errors';
import { messageOf, nameOf } from '../../core/errors';

/** The two fleet indexes AWS IoT maintains. */
export type IndexName = 'AWS_Things' | 'AWS_ThingGroups';

/** A custom field of the thing index. */
export interface IndexedField {
  readonly name: string;
  readonly type: FieldType;
}

/** The account's fleet indexing configuration, flattened to what Fleetkit manages. */
export interface IndexingSettings {
  readonly thingIndexingMode: ThingIndexingMode;
  readonly thingConnectivityIndexingMode: ThingConnectivityIndexingMode;
  readonly namedShadowIndexingMode: NamedShadowIndexingMode;
  readonly namedShadowNames: readonly string[];
  readonly customFields: readonly IndexedField[];
  readonly thingGroupIndexingMode: ThingGroupIndexingMode;
}

/** A thing type as the registry holds it. */
export interface ThingTypeDescription {
  readonly thingTypeName: string;
  readonly thingTypeArn: string;
  /** `undefined` when the type has none. */
  readonly description?: string;
  readonly searchableAttributes: readonly string[];
  readonly deprecated: boolean;
  /** When AWS IoT reports it (the real service does; moto does not). */
  readonly deprecationDate?: Date;
}

/** The properties a thing type is created with. */
export interface ThingTypeSpec {
  readonly thingTypeName: string;
  readonly description?: string;
  readonly searchableAttributes: readonly string[];
}

/** A thing group, as far as policy attachment cares. */
export interface ThingGroupDescription {
  readonly thingGroupArn: string;
  /** Dynamic groups have a query; AWS IoT attaches no policies to them. */
  readonly dynamic: boolean;
}

/** Things that have a thing type: how many, and the first few names. */
export interface ThingsOfType {
  /** Things counted; the real number when `complete`, a lower bound otherwise. */
  readonly total: number;
  /** Whether every thing was counted (false when counting stopped at the limit). */
  readonly complete: boolean;
  readonly sample: readonly string[];
}

/** Registration modes of a CA certificate. */
export type CaCertificateMode = 'DEFAULT' | 'SNI_ONLY';

/** A CA certificate as AWS IoT holds it. */
export interface CaCertificateDescription {
  readonly certificateId: string;
  readonly certificateArn: string;
  /** ACTIVE or INACTIVE. */
  readonly status: string;
  /** `undefined` when the service does not report it (moto does not). */
  readonly certificateMode?: string;
  /** Whether auto-registration is ENABLE; `undefined` when the service does not report it (moto does not). */
  readonly autoRegistration?: boolean;
  /** The JITP template in the CA's registration config, if any. */
  readonly jitpTemplateName?: string;
}

/** What RegisterCACertificate is called with. */
export interface CaRegistration {
  readonly caCertificatePem: string;
  /** Required in DEFAULT mode, absent in SNI_ONLY mode. */
  readonly verificationCertificatePem?: string;
  readonly certificateMode: CaCertificateMode;
  readonly active: boolean;
  readonly autoRegistration: boolean;
  /** JITP: the provisioning template AWS IoT runs for this CA's new device certificates. */
  readonly jitpTemplateName?: string;
}

/** Outcome of RegisterCACertificate. */
export type CaRegistrationOutcome =
  | { readonly outcome: 'registered'; readonly certificateId: string; readonly certificateArn: string }
  /** The CA is registered in this account and region already. */
  | { readonly outcome: 'exists' }
  /** AWS IoT refused the verification certificate (RegistrationCodeValidationException, CertificateValidationException). */
  | { readonly outcome: 'verification-rejected'; readonly reason: string };

/** Device certificates issued by a CA with a given status: how many, and the first few IDs. */
export interface CertificatesOfCa {
  /** Certificates counted; the real number when `complete`, a lower bound otherwise. */
  readonly total: number;
  readonly complete: boolean;
  readonly sample: readonly string[];
}

/**
 * The AWS IoT operations the registry provider needs. Methods return `undefined` or a result tag where the
 * answer "it does not exist" is part of the decision; every other failure is an {@link IotApiError}.
 */
export interface FleetRegistry {
  getIndexingConfiguration(): Promise<IndexingSettings>;
  /** Applies thing and thing group indexing as given (customFields replace the current list). */
  updateIndexingConfiguration(settings: IndexingSettings): Promise<void>;
  /**
   * Turns OFF the indexes given: thing indexing (with connectivity and named shadows) and/or thing group
   * indexing; the other is left as it is.
   */
  disableIndexing(indexes: { readonly thing: boolean; readonly group: boolean }): Promise<void>;
  /** @returns ACTIVE, BUILDING or REBUILDING, or `undefined` when the index does not exist (yet). */
  indexStatus(indexName: IndexName): Promise<string | undefined>;
  /** Names of every dynamic thing group in the account and region. */
  listDynamicThingGroups(): Promise<string[]>;
  describeThingType(thingTypeName: string): Promise<ThingTypeDescription | undefined>;
  /** @returns `exists` when a type of that name exists already (its properties are not compared). */
  createThingType(
    spec: ThingTypeSpec,
  ): Promise<{ readonly outcome: 'created'; readonly thingTypeArn: string } | { readonly outcome: 'exists' }>;
  /** Deprecates (`true`) or undeprecates (`false`) the type. */
  setThingTypeDeprecated(thingTypeName: string, deprecated: boolean): Promise<void>;
  deleteThingType(thingTypeName: string): Promise<'deleted' | 'not-found'>;
  /** Counts the things of the type, page by page up to `countLimit`, and keeps the first `sampleSize` names. */
  thingsOfType(thingTypeName: string, sampleSize: number, countLimit: number): Promise<ThingsOfType>;
  describeThingGroup(thingGroupName: string): Promise<ThingGroupDescription | undefined>;
  attachPolicy(policyName: string, targetArn: string): Promise<'attached' | 'not-found'>;
  /** Whether the policy is attached to the target itself (ListAttachedPolicies, every page, not recursive). */
  isPolicyAttached(policyName: string, targetArn: string): Promise<boolean>;
  /** @returns `'not-attached'` when the policy, the target or the attachment does not exist. */
  detachPolicy(policyName: string, targetArn: string): Promise<'detached' | 'not-attached'>;
  /** The account's registration code for CA verification certificates (GetRegistrationCode). */
  getRegistrationCode(): Promise<string>;
  registerCaCertificate(registration: CaRegistration): Promise<CaRegistrationOutcome>;
  describeCaCertificate(certificateId: string): Promise<CaCertificateDescription | undefined>;
  /** Changes the status and/or auto-registration of a CA (UpdateCACertificate); a no-op when neither is given. */
  updateCaCertificate(
    certificateId: string,
    changes: {
      readonly status?: 'ACTIVE' | 'INACTIVE';
      readonly autoRegistration?: boolean;
      readonly jitpTemplateName?: string;
    },
  ): Promise<void>;
  deleteCaCertificate(certificateId: string): Promise<'deleted' | 'not-found'>;
  /**
   * Counts the device certificates issued by the CA that have `status` (ListCertificatesByCA, page by page up to
   * `countLimit`) and keeps the first `sampleSize` IDs.
   */
  certificatesByCa(
    caCertificateId: string,
    options: { readonly status: string; readonly sampleSize: number; readonly countLimit: number },
  ): Promise<CertificatesOfCa>;
  /** Whether each event type is on (DescribeEventConfigurations); a type AWS does not list counts as off. */
  getEventConfigurations(): Promise<Record<EventType, boolean>>;
  /** Turns the given event types on or off (UpdateEventConfigurations); the others stay as they are. */
  updateEventConfigurations(configurations: EventConfigurations): Promise<void>;
}

/** Largest page AWS IoT returns for ListThings, ListThingGroups and ListCertificatesByCA. */
const PAGE_SIZE = 250;

/** RegisterCACertificate's answers when the verification certificate does not prove possession of the CA key. */
const VERIFICATION_REJECTIONS = new Set([
  'RegistrationCodeValidationException',
  'CertificateValidationException',
]);
/** DescribeThingGroup calls in flight at once while looking for dynamic groups (its quota is 100 TPS). */
const DESCRIBE_CONCURRENCY = 10;

/**
 * Whether a failed call may succeed when made again later: throttling, AWS-side (5xx) failures and network
 * errors (core/aws-errors.ts). The SDK has already retried these with adaptive backoff before they reach here.
 */
export const isTransient = isTransientAwsError;

async function call<T>(operation: string, subject: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw new IotApiError(operation, subject, isTransient(error), error);
  }
}

/** Runs `run` for each item, at most `limit` at a time, keeping the input order in the result. */
async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  run: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += limit) {
    results.push(...(await Promise.all(items.slice(i, i + limit).map(run))));
  }
  return results;
}

/** The registry over an IoT client built with Fleetkit's shared settings (adaptive retry). */
export function createFleetRegistry(options: { maxAttempts: number }): FleetRegistry {
  return iotFleetRegistry(new IoTClient(awsClientConfig({ maxAttempts: options.maxAttempts })));
}

/**
 * The provider's view of AWS IoT. The only file of the function that imports the IoT client.
 *
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_Operations_AWS_IoT.html
 */
export function iotFleetRegistry(client: IoTClient): FleetRegistry {
  const describeThingGroup = async (thingGroupName: string) => {
    try {
      return await client.send(new DescribeThingGroupCommand({ thingGroupName }));
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return undefined;
      throw new IotApiError('DescribeThingGroup', `thing group ${thingGroupName}`, isTransient(error), error);
    }
  };

  return {
    async getIndexingConfiguration() {
      const out = await call('GetIndexingConfiguration', 'the account', () =>
        client.send(new GetIndexingConfigurationCommand({})),
      );
      const thing = out.thingIndexingConfiguration;
      return {
        thingIndexingMode: thing?.thingIndexingMode ?? 'OFF',
        thingConnectivityIndexingMode: thing?.thingConnectivityIndexingMode ?? 'OFF',
        namedShadowIndexingMode: thing?.namedShadowIndexingMode ?? 'OFF',
        namedShadowNames: thing?.filter?.namedShadowNames ?? [],
        customFields: (thing?.customFields ?? []).map((f) => ({
          name: f.name ?? '',
          type: f.type ?? 'String',
        })),
        thingGroupIndexingMode: out.thingGroupIndexingConfiguration?.thingGroupIndexingMode ?? 'OFF',
      };
    },

    async updateIndexingConfiguration(settings) {
      await call('UpdateIndexingConfiguration', 'the account', () =>
        client.send(
          new UpdateIndexingConfigurationCommand({
            thingIndexingConfiguration: {
              thingIndexingMode: settings.thingIndexingMode,
              thingConnectivityIndexingMode: settings.thingConnectivityIndexingMode,
              namedShadowIndexingMode: settings.namedShadowIndexingMode,
              ...(settings.namedShadowNames.length > 0 && {
                filter: { namedShadowNames: [...settings.namedShadowNames] },
              }),
              customFields: settings.customFields.map((f) => ({ name: f.name, type: f.type })),
            },
            thingGroupIndexingConfiguration: {
              thingGroupIndexingMode: settings.thingGroupIndexingMode,
            },
          }),
        ),
      );
    },

    async disableIndexing(indexes) {
      await call('UpdateIndexingConfiguration', 'the account', () =>
        client.send(
          new UpdateIndexingConfigurationCommand({
            ...(indexes.thing && {
              thingIndexingConfiguration: {
                thingIndexingMode: 'OFF',
                thingConnectivityIndexingMode: 'OFF',
                namedShadowIndexingMode: 'OFF',
              },
            }),
            ...(indexes.group && { thingGroupIndexingConfiguration: { thingGroupIndexingMode: 'OFF' } }),
          }),
        ),
      );
    },

    async indexStatus(indexName) {
      try {
        const out = await client.send(new DescribeIndexCommand({ indexName }));
        return out.indexStatus;
      } catch (error) {
        if (error instanceof ResourceNotFoundException) return undefined;
        throw new IotApiError('DescribeIndex', `index ${indexName}`, isTransient(error), error);
      }
    },

    async listDynamicThingGroups() {
      const names: string[] = [];
      await call('ListThingGroups', 'the account', async () => {
        for await (const page of paginateListThingGroups({ client, pageSize: PAGE_SIZE }, {})) {
          for (const group of page.thingGroups ?? []) if (group.groupName) names.push(group.groupName);
        }
      });
      const described = await mapLimited(names, DESCRIBE_CONCURRENCY, async (name) => ({
        name,
        group: await describeThingGroup(name),
      }));
      return described.filter((d) => d.group?.queryString !== undefined).map((d) => d.name);
    },

    async describeThingType(thingTypeName) {
      try {
        const out = await client.send(new DescribeThingTypeCommand({ thingTypeName }));
        const description = out.thingTypeProperties?.thingTypeDescription;
        const deprecationDate = out.thingTypeMetadata?.deprecationDate;
        return {
          thingTypeName: out.thingTypeName ?? thingTypeName,
          thingTypeArn: out.thingTypeArn ?? '',
          ...(description !== undefined && { description }),
          searchableAttributes: out.thingTypeProperties?.searchableAttributes ?? [],
          deprecated: out.thingTypeMetadata?.deprecated ?? false,
          ...(deprecationDate !== undefined && { deprecationDate }),
        };
      } catch (error) {
        if (error instanceof ResourceNotFoundException) return undefined;
        throw new IotApiError('DescribeThingType', `thing type ${thingTypeName}`, isTransient(error), error);
      }
    },

    async createThingType(spec) {
      try {
        const out = await client.send(
          new CreateThingTypeCommand({
            thingTypeName: spec.thingTypeName,
            thingTypeProperties: {
              ...(spec.description !== undefined && { thingTypeDescription: spec.description }),
              ...(spec.searchableAttributes.length > 0 && {
                searchableAttributes: [...spec.searchableAttributes],
              }),
            },
          }),
        );
        return { outcome: 'created', thingTypeArn: out.thingTypeArn ?? '' };
      } catch (error) {
        if (error instanceof ResourceAlreadyExistsException) return { outcome: 'exists' };
        throw new IotApiError(
          'CreateThingType',
          `thing type ${spec.thingTypeName}`,
          isTransient(error),
          error,
        );
      }
    },

    async setThingTypeDeprecated(thingTypeName, deprecated) {
      await call('DeprecateThingType', `thing type ${thingTypeName}`, () =>
        client.send(new DeprecateThingTypeCommand({ thingTypeName, undoDeprecate: !deprecated })),
      );
    },

    async deleteThingType(thingTypeName) {
      try {
        await client.send(new DeleteThingTypeCommand({ thingTypeName }));
        return 'deleted';
      } catch (error) {
        if (error instanceof ResourceNotFoundException) return 'not-found';
        throw new IotApiError('DeleteThingType', `thing type ${thingTypeName}`, isTransient(error), error);
      }
    },

    async thingsOfType(thingTypeName, sampleSize, countLimit) {
      let total = 0;
      let complete = true;
      const sample: string[] = [];
      await call('ListThings', `thing type ${thingTypeName}`, async () => {
        for await (const page of paginateListThings({ client, pageSize: PAGE_SIZE }, { thingTypeName })) {
          for (const thing of page.things ?? []) {
            total += 1;
            if (sample.length < sampleSize && thing.thingName) sample.push(thing.thingName);
          }
          if (total >= countLimit && page.nextToken !== undefined) {
            complete = false;
            break;
          }
        }
      });
      return { total, complete, sample };
    },

    async describeThingGroup(thingGroupName) {
      const out = await describeThingGroup(thingGroupName);
      if (out === undefined) return undefined;
      return { thingGroupArn: out.thingGroupArn ?? '', dynamic: out.queryString !== undefined };
    },

    async attachPolicy(policyName, targetArn) {
      try {
        await client.send(new AttachPolicyCommand({ policyName, target: targetArn }));
        return 'attached';
      } catch (error) {
        if (error instanceof ResourceNotFoundException) return 'not-found';
        throw new IotApiError(
          'AttachPolicy',
          `policy ${policyName} on ${targetArn}`,
          isTransient(error),
          error,
        );
      }
    },

    async isPolicyAttached(policyName, targetArn) {
      let marker: string | undefined;
      do {
        // A fresh input per page (the SDK paginator reuses and mutates one).
        const page = await call('ListAttachedPolicies', `target ${targetArn}`, () =>
          client.send(
            new ListAttachedPoliciesCommand({
              target: targetArn,
              pageSize: PAGE_SIZE,
              ...(marker !== undefined && { marker }),
            }),
          ),
        );
        if ((page.policies ?? []).some((policy) => policy.policyName === policyName)) return true;
        marker = page.nextMarker ?? undefined;
      } while (marker !== undefined);
      return false;
    },

    async detachPolicy(policyName, targetArn) {
      try {
        await client.send(new DetachPolicyCommand({ policyName, target: targetArn }));
        return 'detached';
      } catch (error) {
        if (error instanceof ResourceNotFoundException) return 'not-attached';
        throw new IotApiError(
          'DetachPolicy',
          `policy ${policyName} on ${targetArn}`,
          isTransient(error),
          error,
        );
      }
    },

    async getRegistrationCode() {
      const out = await call('GetRegistrationCode', 'the account', () =>
        client.send(new GetRegistrationCodeCommand({})),
      );
      if (!out.registrationCode) {
        throw new IotApiError(
          'GetRegistrationCode',
          'the account',
          false,
          new Error('no registration code returned'),
        );
      }
      return out.registrationCode;
    },

    async registerCaCertificate(registration) {
      try {
        const out = await client.send(
          new RegisterCACertificateCommand({
            caCertificate: registration.caCertificatePem,
            ...(registration.verificationCertificatePem !== undefined && {
              verificationCertificate: registration.verificationCertificatePem,
            }),
            certificateMode: registration.certificateMode,
            setAsActive: registration.active,
            allowAutoRegistration: registration.autoRegistration,
            ...(registration.jitpTemplateName !== undefined && {
              registrationConfig: { templateName: registration.jitpTemplateName },
            }),
          }),
        );
        return {
          outcome: 'registered',
          certificateId: out.certificateId ?? '',
          certificateArn: out.certificateArn ?? '',
        };
      } catch (error) {
        if (error instanceof ResourceAlreadyExistsException) return { outcome: 'exists' };
        const name = nameOf(error);
        if (name !== undefined && VERIFICATION_REJECTIONS.has(name)) {
          return { outcome: 'verification-rejected', reason: `${name}: ${messageOf(error)}` };
        }
        throw new IotApiError('RegisterCACertificate', 'the CA certificate', isTransient(error), error);
      }
    },

    async describeCaCertificate(certificateId) {
      try {
        const out = await client.send(new DescribeCACertificateCommand({ certificateId }));
        const d = out.certificateDescription;
        return {
          certificateId: d?.certificateId ?? certificateId,
          certificateArn: d?.certificateArn ?? '',
          status: d?.status ?? 'UNKNOWN',
          ...(d?.certificateMode !== undefined && { certificateMode: d.certificateMode }),
          ...(d?.autoRegistrationStatus !== undefined && {
            autoRegistration: d.autoRegistrationStatus === 'ENABLE',
          }),
          ...(out.registrationConfig?.templateName !== undefined && {
            jitpTemplateName: out.registrationConfig.templateName,
          }),
        };
      } catch (error) {
        if (error instanceof ResourceNotFoundException) return undefined;
        throw new IotApiError(
          'DescribeCACertificate',
          `CA certificate ${certificateId}`,
          isTransient(error),
          error,
        );
      }
    },

    async updateCaCertificate(certificateId, changes) {
      if (
        changes.status === undefined &&
        changes.autoRegistration === undefined &&
        changes.jitpTemplateName === undefined
      ) {
        return;
      }
      await call('UpdateCACertificate', `CA certificate ${certificateId}`, () =>
        client.send(
          new UpdateCACertificateCommand({
            certificateId,
            ...(changes.status !== undefined && { newStatus: changes.status }),
            ...(changes.autoRegistration !== undefined && {
              newAutoRegistrationStatus: changes.autoRegistration ? 'ENABLE' : 'DISABLE',
            }),
            ...(changes.jitpTemplateName !== undefined && {
              registrationConfig: { templateName: changes.jitpTemplateName },
            }),
          }),
        ),
      );
    },

    async deleteCaCertificate(certificateId) {
      try {
        await client.send(new DeleteCACertificateCommand({ certificateId }));
        return 'deleted';
      } catch (error) {
        if (error instanceof ResourceNotFoundException) return 'not-found';
        throw new IotApiError(
          'DeleteCACertificate',
          `CA certificate ${certificateId}`,
          isTransient(error),
          error,
        );
      }
    },

    async certificatesByCa(caCertificateId, { status, sampleSize, countLimit }) {
      let total = 0;
      let complete = true;
      const sample: string[] = [];
      let marker: string | undefined;
      do {
        // A fresh input per page (the SDK paginator reuses and mutates one).
        const page = await call('ListCertificatesByCA', `CA certificate ${caCertificateId}`, () =>
          client.send(
            new ListCertificatesByCACommand({
              caCertificateId,
              pageSize: PAGE_SIZE,
              ...(marker !== undefined && { marker }),
            }),
          ),
        );
        for (const certificate of page.certificates ?? []) {
          if (certificate.status !== status) continue;
          total += 1;
          if (sample.length < sampleSize && certificate.certificateId) sample.push(certificate.certificateId);
        }
        marker = page.nextMarker ?? undefined;
        if (total >= countLimit && marker !== undefined) {
          complete = false;
          break;
        }
      } while (marker !== undefined);
      return { total, complete, sample };
    },

    async getEventConfigurations() {
      const out = await call('DescribeEventConfigurations', 'the account', () =>
        client.send(new DescribeEventConfigurationsCommand({})),
      );
      const configured = out.eventConfigurations ?? {};
      return Object.fromEntries(
        EVENT_TYPES.map((type) => [type, configured[type]?.Enabled === true]),
      ) as Record<EventType, boolean>;
    },

    async updateEventConfigurations(configurations) {
      await call('UpdateEventConfigurations', 'the account', () =>
        client.send(
          new UpdateEventConfigurationsCommand({
            eventConfigurations: Object.fromEntries(
              Object.entries(configurations).map(([type, enabled]) => [type, { Enabled: enabled }]),
            ),
          }),
        ),
      );
    },
  };
}
