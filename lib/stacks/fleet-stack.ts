import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';
import type { ResolvedFleetConfig } from '../config/load';
import { AllowListTable } from '../constructs/allow-list-table';
import { CaCertificate } from '../constructs/ca-certificate';
import { DevicePolicy } from '../constructs/device-policy';
import { DynamicThingGroup } from '../constructs/dynamic-thing-group';
import { FleetIndexing } from '../constructs/fleet-indexing';
import { FleetMetric } from '../constructs/fleet-metric';
import { GroupPolicy } from '../constructs/group-policy';
import { RegistryProvider } from '../constructs/registry-provider';
import { StaticGroupTree, type GroupPolicyRef, type StaticGroupSpec } from '../constructs/static-group-tree';
import { ThingType } from '../constructs/thing-type';
import { ProvisioningTemplate } from '../constructs/provisioning-template';
import { fleetProvisioningTemplateName, jitpTemplateName } from '../config/templates';
import {
  allowListTableName,
  claimClientIdPrefix,
  claimPolicyName,
  provisioningAllowListTableName,
} from '../config/contract-names';
import { ClaimPolicy } from '../constructs/claim-policy';
import { ALLOW_LIST_KEY } from '../../core/onboarding/allow-list';
import { AuditTrailTable } from '../constructs/audit-trail-table';
import { EventConfigurations } from '../constructs/event-configurations';
import { IotLogGroup } from '../constructs/iot-log-group';
import { auditTrailTableName, lifecycleBusName } from '../config/contract-names';
import { PROVISIONING_ALLOW_LIST_KEY } from '../../core/provisioning/allow-list';
import {
  effectiveEventConfigurations,
  effectiveFleetIndexing,
  outdatedGroupQuery,
} from '../config/remote-management';

/** Properties of {@link FleetStack}. */
export interface FleetStackProps extends StackProps {
  readonly fleet: ResolvedFleetConfig;
  /** Static groups created in this stack (the rest go to group stacks). */
  readonly staticGroups: readonly StaticGroupSpec[];
}

/** A registered CA and its configuration name. */
export interface RegisteredCa {
  readonly name: string;
  readonly onboarding: 'JITR' | 'JITP' | 'NONE';
  /** The ID AWS IoT gives the CA (SHA-256 of its DER), known at synth. */
  readonly certificateId: string;
  readonly ca: CaCertificate;
}

/**
 * The fleet's stateful resources: CA registrations, the shared device policy, thing types, static groups, the
 * allow-list tables and the claim policy. Changing them affects devices in the field, so they live apart from
 * the functions.
 *
 * Nothing here is exported to the onboarding stack: what it needs has a fixed name (see
 * `lib/config/contract-names.ts`) or an ID known at synth, so the two stacks never block each other's changes.
 */
export class FleetStack extends Stack {
  public readonly certificateAuthorities: readonly RegisteredCa[];
  public readonly devicePolicy: DevicePolicy;
  /** Thing types by name. */
  public readonly thingTypes: ReadonlyMap<string, ThingType>;
  /** The policies groups may attach, by key: the configured group policies and the device policy (`device`). */
  public readonly groupPolicies: ReadonlyMap<string, GroupPolicyRef>;
  /** The static groups of this stack (a large tree puts the rest in group stacks). */
  public readonly staticGroups: StaticGroupTree;
  /** The account's fleet indexing configuration, when indexing is on. */
  public readonly fleetIndexing?: FleetIndexing;
  public readonly dynamicGroups: ReadonlyMap<string, DynamicThingGroup>;
  /** Per software package with `outdatedGroup`: the dynamic group of devices not on its latest version. */
  public readonly outdatedGroups: ReadonlyMap<string, DynamicThingGroup>;
  public readonly fleetMetrics: ReadonlyMap<string, FleetMetric>;
  /** The JITR allow-list (thing names), when `onboarding.requireAllowList` is set. */
  public readonly allowList?: AllowListTable;
  /** The fleet provisioning allow-list (serial numbers), when fleet provisioning is on. */
  public readonly provisioningAllowList?: AllowListTable;
  /** The policy of fleet provisioning claim certificates, when fleet provisioning is on. */
  public readonly claimPolicy?: ClaimPolicy;
  public readonly jitpTemplate?: ProvisioningTemplate;
  /** The account's event configurations, when `monitoring.events` names any or the fleet has job templates. */
  public readonly eventConfigurations?: EventConfigurations;
  /** The audit trail table, when the audit trail is on. */
  public readonly auditTrailTable?: AuditTrailTable;
  /** The fleet's lifecycle event bus, when the audit trail forwards to it. */
  public readonly lifecycleEventBus?: events.EventBus;
  /** `AWSIotLogsV2` with its retention, when logging is on. */
  public readonly iotLogGroup?: IotLogGroup;

  constructor(scope: Construct, id: string, props: FleetStackProps) {
    super(scope, id, props);
    const { config } = props.fleet;

    // JITP: the template exists before the CAs that name it.
    if (props.fleet.jitpTemplate) {
      this.jitpTemplate = new ProvisioningTemplate(this, 'JitpTemplate', {
        templateName: jitpTemplateName(config),
        templateType: 'JITP',
        templateBody: props.fleet.jitpTemplate,
        description: 'Fleetkit just-in-time provisioning',
      });
    }
    this.certificateAuthorities = props.fleet.certificateAuthorities.map((ca) => {
      const registered = new CaCertificate(this, `Ca-${ca.name}`, {
        name: ca.name,
        caCertificatePem: ca.certificatePem,
        caCertificateId: ca.certificate.certificateId,
        verification:
          ca.mode === 'SNI_ONLY'
            ? { kind: 'none' }
            : ca.kmsKeyArn !== undefined
              ? { kind: 'kms', kmsKeyArn: ca.kmsKeyArn }
              : { kind: 'pem', verificationCertificatePem: ca.verificationCertificatePem! },
        status: ca.status,
        autoRegistration: ca.onboarding !== 'NONE',
        forceRemoval: ca.forceRemoval,
        ...(ca.onboarding === 'JITP' && { jitpTemplateName: this.jitpTemplate!.templateName }),
      });
      if (ca.onboarding === 'JITP') registered.node.addDependency(this.jitpTemplate!);
      new CfnOutput(this, `CaCertificateId-${ca.name}`, {
        value: registered.caCertificateId,
        description: `AWS IoT certificate ID of CA ${ca.name}`,
      });
      return {
        name: ca.name,
        onboarding: ca.onboarding,
        certificateId: ca.certificate.certificateId,
        ca: registered,
      };
    });

    this.devicePolicy = new DevicePolicy(this, 'DevicePolicy', {
      policyName: config.devicePolicy.name ?? `${config.name}-device`,
    });

    // The fleet's shape. Its constructs share this scope, and each puts its resource at 'Default', so that the
    // types, policies, groups, indexing and metrics keep the logical IDs earlier versions gave them (a new logical
    // ID replaces a resource, and these have fixed names or hold devices).
    const organization = new Construct(this, 'Organization');
    this.thingTypes = new Map(
      Object.entries(config.thingTypes).map(([name, type]) => [
        name,
        new ThingType(organization, `ThingType-${name}`, { thingTypeName: name, ...type }),
      ]),
    );
    const groupPolicies = new Map<string, GroupPolicyRef>([
      ['device', { policyName: this.devicePolicy.policyName, policyArn: this.devicePolicy.policyArn }],
    ]);
    for (const [key, policy] of Object.entries(config.iotPolicies)) {
      const groupPolicy = new GroupPolicy(organization, `Policy-${key}`, { name: key, ...policy });
      groupPolicies.set(key, {
        policyName: groupPolicy.policyName,
        policyArn: groupPolicy.policyArn,
        dependency: groupPolicy.resource,
      });
    }
    this.groupPolicies = groupPolicies;
    this.staticGroups = new StaticGroupTree(organization, 'Groups', {
      groups: props.staticGroups,
      groupPolicies,
      ...(props.staticGroups.some((group) => group.policyKeys.length > 0) && {
        provider: RegistryProvider.of(this),
      }),
    });
    if (config.fleetIndexing.thingIndexingMode !== 'OFF') {
      // With firmware packages, the reserved $package shadow is indexed too (docs/remote-management.md).
      this.fleetIndexing = new FleetIndexing(organization, 'FleetIndexing', {
        indexing: effectiveFleetIndexing(config),
      });
    }
    const fleetIndexing = this.fleetIndexing && { fleetIndexing: this.fleetIndexing };
    this.dynamicGroups = new Map(
      Object.entries(config.dynamicGroups).map(([name, group]) => [
        name,
        new DynamicThingGroup(organization, `DynamicGroup-${name}`, {
          thingGroupName: name,
          queryString: group.query,
          ...(group.description !== undefined && { description: group.description }),
          ...fleetIndexing,
        }),
      ]),
    );
    this.outdatedGroups = new Map(
      Object.entries(config.firmware?.packages ?? {}).flatMap(([packageName, pkg]) =>
        pkg.outdatedGroup === undefined
          ? []
          : [
              [
                packageName,
                new DynamicThingGroup(organization, `OutdatedGroup-${packageName}`, {
                  thingGroupName: pkg.outdatedGroup,
                  queryString: outdatedGroupQuery(packageName, pkg),
                  description: `Devices not on the latest version of software package ${packageName}`,
                  ...fleetIndexing,
                }),
              ] as const,
            ],
      ),
    );
    this.fleetMetrics = new Map(
      Object.entries(config.fleetMetrics).map(([name, { query, ...metric }]) => [
        name,
        new FleetMetric(organization, `FleetMetric-${name}`, {
          metricName: name,
          queryString: query,
          ...metric,
          ...fleetIndexing,
        }),
      ]),
    );

    // Outputs give the fixed names, not the resources' tokens, so that they read the same in every stack.
    if (config.onboarding.requireAllowList) {
      this.allowList = new AllowListTable(this, 'AllowList', {
        tableName: allowListTableName(config),
        partitionKey: ALLOW_LIST_KEY,
      });
      new CfnOutput(this, 'AllowListTableName', {
        value: allowListTableName(config),
        description: 'DynamoDB table of thing names allowed to onboard',
      });
    }
    if (config.fleetProvisioning.enabled) {
      this.provisioningAllowList = new AllowListTable(this, 'ProvisioningAllowList', {
        tableName: provisioningAllowListTableName(config),
        partitionKey: PROVISIONING_ALLOW_LIST_KEY,
      });
      new CfnOutput(this, 'ProvisioningAllowListTableName', {
        value: provisioningAllowListTableName(config),
        description: 'DynamoDB table of serial numbers allowed to provision (key serialNumber)',
      });
      this.claimPolicy = new ClaimPolicy(this, 'ClaimPolicy', {
        policyName: claimPolicyName(config),
        templateNames: [fleetProvisioningTemplateName(config)],
        clientIdPrefix: claimClientIdPrefix(config),
      });
      new CfnOutput(this, 'ClaimPolicyName', {
        value: claimPolicyName(config),
        description: 'Attach to claim certificates: npx fleetkit claim rotate --policy-name <this>',
      });
      new CfnOutput(this, 'ClaimClientIdPrefix', {
        value: claimClientIdPrefix(config),
        description:
          'Devices connect with their claim as <this><unique suffix>; the claim policy allows no other client ID',
      });
    }

    // Monitoring's state: the account's event configurations, the audit trail, the lifecycle bus and AWS IoT's
    // log group. The machinery that uses them is in the monitoring stack, which refers to them by fixed names.
    const { monitoring } = config;
    const monitoringScope = new Construct(this, 'Monitoring');
    const eventConfigurations = effectiveEventConfigurations(config);
    if (Object.keys(eventConfigurations).length > 0) {
      this.eventConfigurations = new EventConfigurations(monitoringScope, 'EventConfigurations', {
        eventConfigurations,
      });
    }
    if (monitoring.auditTrail.enabled) {
      this.auditTrailTable = new AuditTrailTable(monitoringScope, 'AuditTrail', {
        tableName: auditTrailTableName(config),
      });
      new CfnOutput(this, 'AuditTrailTableName', {
        value: auditTrailTableName(config),
        description: 'Device lifecycles: fleetkit device history <thing> --fleet ' + config.name,
      });
      if (monitoring.auditTrail.eventBridge?.bus === 'fleet') {
        // Retained: users' rules on the bus outlive a stack update that drops it.
        this.lifecycleEventBus = new events.EventBus(monitoringScope, 'LifecycleEventBus', {
          eventBusName: lifecycleBusName(config),
          description: `Fleetkit ${config.name}: device lifecycle events`,
        });
        this.lifecycleEventBus.applyRemovalPolicy(RemovalPolicy.RETAIN);
        new CfnOutput(this, 'LifecycleEventBusName', {
          value: lifecycleBusName(config),
          description: 'EventBridge bus of device lifecycle events (source fleetkit)',
        });
      }
    }
    if (monitoring.logging.enabled) {
      this.iotLogGroup = new IotLogGroup(monitoringScope, 'IotLogGroup', {
        retentionDays: monitoring.logging.retentionDays,
      });
    }
  }
}
