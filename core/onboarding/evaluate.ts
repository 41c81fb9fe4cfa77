import type { CertificateInfo } from '../certificates/inspect';
import { ATTRIBUTE_VALUE_PATTERN, THING_NAME_PATTERN } from '../limits';
import { readCertificateField } from './certificate-fields';
import type { OnboardingRules } from './rules';

/**
 * What refusing a certificate does to it, by the reason: `revoke` when the certificate itself is at fault and no
 * change on the operator's side could make it acceptable, `setAside` when the operator's configuration or
 * allow-list decides, so that the certificate stays PENDING_ACTIVATION and the device onboards once the cause is
 * fixed (a redrive, or the device's next attempt). Revocation is for good: the device needs a new certificate.
 *
 * - `NOT_ISSUED_BY_CA`: signed by none of the CAs the pipeline manages. Revoked.
 * - `IS_CA_CERTIFICATE`: basicConstraints CA:TRUE; a CA is not a device identity. Revoked.
 * - `NOT_YET_VALID`, `EXPIRED`: outside its validity (beyond {@link NOT_BEFORE_CLOCK_SKEW_MS}). Revoked.
 * - `KEY_NOT_ACCEPTED`: a key type, curve or size the key policy refuses (a weak key). Revoked.
 * - `UNREADABLE_CERTIFICATE`: the registry's PEM does not parse. Revoked.
 * - `INVALID_THING_NAME`: the value that names the thing can never be a thing name: without a pattern, the
 *   field's value is not one; with a pattern, the value is too long to be matched at all
 *   ({@link THING_NAME_SOURCE_MAX_CHARS}). Revoked.
 * - `MISSING_FIELD`: the certificate lacks a field a rule maps (the thing name's or an attribute's). Set aside.
 * - `THING_NAME_NOT_MATCHED`: the thing name pattern does not match, or its capture is not a thing name. Set
 *   aside.
 * - `INVALID_ATTRIBUTE_VALUE`: a mapped field's value is not a valid attribute value. Set aside.
 * - `NOT_ALLOW_LISTED`: the thing name is not on the allow-list (yet). Set aside.
 */
export const REJECTION_ACTIONS = {
  NOT_ISSUED_BY_CA: 'revoke',
  IS_CA_CERTIFICATE: 'revoke',
  NOT_YET_VALID: 'revoke',
  EXPIRED: 'revoke',
  KEY_NOT_ACCEPTED: 'revoke',
  UNREADABLE_CERTIFICATE: 'revoke',
  INVALID_THING_NAME: 'revoke',
  MISSING_FIELD: 'setAside',
  THING_NAME_NOT_MATCHED: 'setAside',
  INVALID_ATTRIBUTE_VALUE: 'setAside',
  NOT_ALLOW_LISTED: 'setAside',
} as const satisfies Record<string, 'revoke' | 'setAside'>;

/** Why a device certificate is refused. Stable codes: they appear in logs, metrics, dead letters and tests. */
export type RejectionCode = keyof typeof REJECTION_ACTIONS;

/** Every {@link RejectionCode}. */
export const REJECTION_CODES = Object.keys(REJECTION_ACTIONS) as readonly RejectionCode[];

/** A refusal that revokes the certificate. */
export type RevocationCode = {
  [C in RejectionCode]: (typeof REJECTION_ACTIONS)[C] extends 'revoke' ? C : never;
}[RejectionCode];

/** A refusal that leaves the certificate pending and sets the event aside. */
export type OperatorRejectionCode = Exclude<RejectionCode, RevocationCode>;

/** Whether a refusal revokes the certificate (see {@link REJECTION_ACTIONS}). */
export function revokes(code: RejectionCode): code is RevocationCode {
  return REJECTION_ACTIONS[code] === 'revoke';
}

/**
 * How far ahead of the function's clock a certificate's notBefore may be and still be valid: five minutes.
 * A device is often issued its certificate moments before it first connects, by an issuer whose clock can run a
 * little ahead of AWS's; revoking such a certificate would brick the device for a fault of neither. Five minutes
 * is the customary tolerance (Kerberos' default skew; the back-dating Fleetkit's own issuer applies).
 */
export const NOT_BEFORE_CLOCK_SKEW_MS = 5 * 60_000;

/**
 * The longest field value the thing name pattern is run on: 256 characters, twice the longest thing name and
 * above X.509's upper bounds for the subject fields a rule can read (64 for a common name or serial number). A
 * bound on the input bounds the pattern's running time, even for one the configuration check lets through.
 */
export const THING_NAME_SOURCE_MAX_CHARS = 256;

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
  if (now.getTime() + NOT_BEFORE_CLOCK_SKEW_MS < certificate.notBefore.getTime()) {
    return reject(
      'NOT_YET_VALID',
      `valid from ${certificate.notBefore.toISOString()}, now ${now.toISOString()} (${NOT_BEFORE_CLOCK_SKEW_MS / 60_000} minutes of clock skew allowed)`,
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
    if (source.length > THING_NAME_SOURCE_MAX_CHARS) {
      return reject(
        'INVALID_THING_NAME',
        `${rules.thingName.field} is ${source.length} characters; the thing name pattern runs on at most ${THING_NAME_SOURCE_MAX_CHARS}`,
      );
    }
    const match = new RegExp(rules.thingName.pattern).exec(source);
    if (!match) {
      return reject(
        'THING_NAME_NOT_MATCHED',
        `${rules.thingName.field} "${source}" does not match /${rules.thingName.pattern}/`,
      );
    }
    thingName = match[1] ?? match[0];
    if (!THING_NAME_PATTERN.test(thingName)) {
      return reject(
        'THING_NAME_NOT_MATCHED',
        `/${rules.thingName.pattern}/ takes "${thingName}", which is not a valid thing name (1-128 characters of [a-zA-Z0-9:_-])`,
      );
    }
  } else if (!THING_NAME_PATTERN.test(thingName)) {
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
