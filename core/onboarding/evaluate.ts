import type { CertificateInfo } from '../certificates/inspect';
import { ATTRIBUTE_VALUE_PATTERN, THING_NAME_PATTERN } from '../limits';
import { readCertificateField } from './certificate-fields';
import type { OnboardingRules } from './rules';

/** Why a device certificate is refused. Stable codes: they appear in logs, metrics and tests. */
export type RejectionCode =
  | 'NOT_ISSUED_BY_CA'
  | 'IS_CA_CERTIFICATE'
  | 'NOT_YET_VALID'
  | 'EXPIRED'
  | 'KEY_NOT_ACCEPTED'
  | 'MISSING_FIELD'
  | 'INVALID_THING_NAME'
  | 'INVALID_ATTRIBUTE_VALUE'
  | 'NOT_ALLOW_LISTED';

/** What a device becomes in the registry. */
export interface DeviceIdentity {
  readonly thingName: string;
  readonly thingTypeName?: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly thingGroupName?: string;
}

/** The outcome of checking a certificate against the onboarding rules. */
export type Verdict =
  | { readonly accepted: true; readonly identity: DeviceIdentity }
  | { readonly accepted: false; readonly code: RejectionCode; readonly detail: string };

/** Inputs to {@link evaluateCertificate}. */
export interface EvaluationInput {
  readonly certificate: CertificateInfo;
  /** Whether the certificate's signature verifies with the expected CA's key and its issuer names that CA. */
  readonly issuedByExpectedCa: boolean;
  readonly rules: OnboardingRules;
  readonly now: Date;
}

const reject = (code: RejectionCode, detail: string): Verdict => ({ accepted: false, code, detail });

/**
 * Decides whether a device certificate may be onboarded and, if so, what thing it becomes.
 *
 * Pure: the caller supplies the parsed certificate, the issuer check and the clock. The allow-list, which needs
 * a lookup, is checked by the caller on the accepted identity.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/auto-register-device-cert.html
 */
export function evaluateCertificate({
  certificate,
  issuedByExpectedCa,
  rules,
  now,
}: EvaluationInput): Verdict {
  if (!issuedByExpectedCa) {
    return reject('NOT_ISSUED_BY_CA', 'the certificate is not signed by the CA it was registered under');
  }
  if (certificate.isCa) {
    return reject(
      'IS_CA_CERTIFICATE',
      'a CA certificate (basicConstraints CA:TRUE) cannot be a device identity',
    );
  }
  if (now < certificate.notBefore) {
    return reject(
      'NOT_YET_VALID',
      `valid from ${certificate.notBefore.toISOString()}, now ${now.toISOString()}`,
    );
  }
  if (now > certificate.notAfter) {
    return reject('EXPIRED', `expired ${certificate.notAfter.toISOString()}, now ${now.toISOString()}`);
  }
  const keyProblem = checkKey(certificate.key, rules.keyPolicy);
  if (keyProblem) return reject('KEY_NOT_ACCEPTED', keyProblem);

  const source = readCertificateField(certificate, rules.thingName.field);
  if (source === undefined) {
    return reject('MISSING_FIELD', `the certificate has no ${rules.thingName.field} to name the thing`);
  }
  let thingName = source;
  if (rules.thingName.pattern !== undefined) {
    const match = new RegExp(rules.thingName.pattern).exec(source);
    if (!match) {
      return reject(
        'INVALID_THING_NAME',
        `${rules.thingName.field} "${source}" does not match /${rules.thingName.pattern}/`,
      );
    }
    thingName = match[1] ?? match[0];
  }
  if (!THING_NAME_PATTERN.test(thingName)) {
    return reject(
      'INVALID_THING_NAME',
      `"${thingName}" is not a valid thing name (1-128 characters of [a-zA-Z0-9:_-])`,
    );
  }

  const attributes: Record<string, string> = {};
  for (const [name, field] of Object.entries(rules.attributes)) {
    const value = readCertificateField(certificate, field);
    if (value === undefined) {
      return reject('MISSING_FIELD', `the certificate has no ${field} for attribute "${name}"`);
    }
    if (!ATTRIBUTE_VALUE_PATTERN.test(value)) {
      return reject(
        'INVALID_ATTRIBUTE_VALUE',
        `${field} "${value}" cannot be the value of attribute "${name}" (up to 800 characters of [a-zA-Z0-9_.,@/:#=[]-])`,
      );
    }
    attributes[name] = value;
  }

  const groupRule = rules.groupRules.find(
    (rule) => readCertificateField(certificate, rule.field) === rule.equals,
  );
  const thingGroupName = groupRule?.thingGroupName ?? rules.thingGroupName;

  return {
    accepted: true,
    identity: {
      thingName,
      attributes,
      ...(rules.thingTypeName !== undefined && { thingTypeName: rules.thingTypeName }),
      ...(thingGroupName !== undefined && { thingGroupName }),
    },
  };
}

function checkKey(key: CertificateInfo['key'], policy: OnboardingRules['keyPolicy']): string | undefined {
  switch (key.type) {
    case 'ec':
      return (policy.ecCurves as readonly string[]).includes(key.curve)
        ? undefined
        : `EC curve ${key.curve} is not accepted (accepted: ${policy.ecCurves.join(', ')})`;
    case 'rsa':
      if (policy.rsaMinimumBits === undefined)
        return `RSA keys are not accepted (accepted: EC ${policy.ecCurves.join(', ')})`;
      return key.bits >= policy.rsaMinimumBits
        ? undefined
        : `RSA key of ${key.bits} bits is below the minimum of ${policy.rsaMinimumBits}`;
    default:
      return `${key.name} keys are not accepted`;
  }
}
