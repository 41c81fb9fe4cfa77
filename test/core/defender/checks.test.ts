import {
  AUDIT_CHECK_NAMES,
  AUDIT_CHECKS,
  DEFAULT_AUDIT_CHECKS,
  enabledAuditChecks,
} from '../../../core/defender/checks';

describe('Device Defender audit checks', () => {
  test('the defaults are the checks of the security baseline', () => {
    expect([...DEFAULT_AUDIT_CHECKS].sort()).toEqual([
      'CA_CERTIFICATE_EXPIRING_CHECK',
      'CONFLICTING_CLIENT_IDS_CHECK',
      'DEVICE_CERTIFICATE_EXPIRING_CHECK',
      'DEVICE_CERTIFICATE_SHARED_CHECK',
      'IOT_POLICY_OVERLY_PERMISSIVE_CHECK',
      'LOGGING_DISABLED_CHECK',
      'REVOKED_CA_CERTIFICATE_STILL_ACTIVE_CHECK',
      'REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK',
    ]);
  });

  test('overrides turn checks on and off beside the defaults', () => {
    const checks = enabledAuditChecks({
      LOGGING_DISABLED_CHECK: false,
      DEVICE_CERTIFICATE_KEY_QUALITY_CHECK: true,
    });
    expect(checks).toContain('DEVICE_CERTIFICATE_KEY_QUALITY_CHECK');
    expect(checks).not.toContain('LOGGING_DISABLED_CHECK');
    expect(checks).toHaveLength(DEFAULT_AUDIT_CHECKS.length);
  });

  test("each check's CloudFormation property is its name in PascalCase, but for AWS's one irregular casing", () => {
    for (const name of AUDIT_CHECK_NAMES) {
      const pascal = name
        .toLowerCase()
        .split('_')
        .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
        .join('');
      if (name === 'IOT_POLICY_POTENTIAL_MIS_CONFIGURATION_CHECK') {
        expect(AUDIT_CHECKS[name]).toBe('IoTPolicyPotentialMisConfigurationCheck');
      } else {
        expect(AUDIT_CHECKS[name]).toBe(pascal);
      }
    }
  });
});
