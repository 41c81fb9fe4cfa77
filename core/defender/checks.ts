/**
 * Device Defender audit checks: the names the API uses (in scheduled audits and findings), the property each has
 * in `AWS::IoT::AccountAuditConfiguration`, and the checks Fleetkit turns on by default.
 *
 * @see https://docs.aws.amazon.com/iot-device-defender/latest/devguide/device-defender-audit-checks.html
 * @see https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-iot-accountauditconfiguration-auditcheckconfigurations.html
 */

/** Each audit check's name, with its property in `AuditCheckConfigurations` (whose casing is irregular). */
export const AUDIT_CHECKS = {
  AUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK: 'AuthenticatedCognitoRoleOverlyPermissiveCheck',
  CA_CERTIFICATE_EXPIRING_CHECK: 'CaCertificateExpiringCheck',
  CA_CERTIFICATE_KEY_QUALITY_CHECK: 'CaCertificateKeyQualityCheck',
  CONFLICTING_CLIENT_IDS_CHECK: 'ConflictingClientIdsCheck',
  DEVICE_CERTIFICATE_AGE_CHECK: 'DeviceCertificateAgeCheck',
  DEVICE_CERTIFICATE_EXPIRING_CHECK: 'DeviceCertificateExpiringCheck',
  DEVICE_CERTIFICATE_KEY_QUALITY_CHECK: 'DeviceCertificateKeyQualityCheck',
  DEVICE_CERTIFICATE_SHARED_CHECK: 'DeviceCertificateSharedCheck',
  INTERMEDIATE_CA_REVOKED_FOR_ACTIVE_DEVICE_CERTIFICATES_CHECK:
    'IntermediateCaRevokedForActiveDeviceCertificatesCheck',
  IOT_POLICY_OVERLY_PERMISSIVE_CHECK: 'IotPolicyOverlyPermissiveCheck',
  IOT_POLICY_POTENTIAL_MIS_CONFIGURATION_CHECK: 'IoTPolicyPotentialMisConfigurationCheck',
  IOT_ROLE_ALIAS_ALLOWS_ACCESS_TO_UNUSED_SERVICES_CHECK: 'IotRoleAliasAllowsAccessToUnusedServicesCheck',
  IOT_ROLE_ALIAS_OVERLY_PERMISSIVE_CHECK: 'IotRoleAliasOverlyPermissiveCheck',
  LOGGING_DISABLED_CHECK: 'LoggingDisabledCheck',
  REVOKED_CA_CERTIFICATE_STILL_ACTIVE_CHECK: 'RevokedCaCertificateStillActiveCheck',
  REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK: 'RevokedDeviceCertificateStillActiveCheck',
  UNAUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK: 'UnauthenticatedCognitoRoleOverlyPermissiveCheck',
} as const;

/** An audit check's name. */
export type AuditCheckName = keyof typeof AUDIT_CHECKS;

/** Every audit check name, sorted. */
export const AUDIT_CHECK_NAMES = Object.keys(AUDIT_CHECKS).sort() as AuditCheckName[];

/**
 * The checks that matter for a fleet onboarded with its own CAs and one shared device policy, on unless the
 * configuration turns them off: expiring CA and device certificates, a revoked CA or device certificate still in
 * use, an overly permissive policy, one certificate shared by devices, clients fighting over a client ID, and
 * logging off (which the other checks' evidence depends on).
 */
export const DEFAULT_AUDIT_CHECKS: readonly AuditCheckName[] = [
  'CA_CERTIFICATE_EXPIRING_CHECK',
  'CONFLICTING_CLIENT_IDS_CHECK',
  'DEVICE_CERTIFICATE_EXPIRING_CHECK',
  'DEVICE_CERTIFICATE_SHARED_CHECK',
  'IOT_POLICY_OVERLY_PERMISSIVE_CHECK',
  'LOGGING_DISABLED_CHECK',
  'REVOKED_CA_CERTIFICATE_STILL_ACTIVE_CHECK',
  'REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK',
];

/** Whether `name` is an audit check Fleetkit knows. */
export function isAuditCheckName(name: string): name is AuditCheckName {
  return Object.hasOwn(AUDIT_CHECKS, name);
}

/** The checks on: the defaults, with the configuration's `true` and `false` applied, sorted. */
export function enabledAuditChecks(
  overrides: Readonly<Partial<Record<AuditCheckName, boolean>>>,
): AuditCheckName[] {
  return AUDIT_CHECK_NAMES.filter((name) => overrides[name] ?? DEFAULT_AUDIT_CHECKS.includes(name));
}

/** Scheduled audit frequencies. */
export const AUDIT_FREQUENCIES = ['DAILY', 'WEEKLY', 'BIWEEKLY', 'MONTHLY'] as const;

/** Days of the week a weekly or biweekly audit runs on. */
export const AUDIT_DAYS_OF_WEEK = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] as const;

/**
 * The day a MONTHLY audit runs on: `1` to `31` (a day a month lacks means its last day), or `LAST`.
 *
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_CreateScheduledAudit.html
 */
export const AUDIT_DAY_OF_MONTH = {
  pattern: /^([1-9]|[12]\d|3[01]|LAST)$/,
  source: 'https://docs.aws.amazon.com/iot/latest/apireference/API_CreateScheduledAudit.html',
} as const;
