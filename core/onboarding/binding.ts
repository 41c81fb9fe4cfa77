/**
 * The onboarding binding: a thing attribute recording which CA, which certificate and which registration event
 * (the attempt) onboarded the thing through JITR.
 *
 * It binds the thing to its CA: a certificate from another CA is refused for it, even after the old certificate
 * is gone. And its write is the thing's claim: JITR writes it with CreateThing (which AWS IoT refuses when a thing
 * of that name exists with other attributes) or with UpdateThing at the version it read (refused when the thing
 * changed since), so of two attempts racing for one thing exactly one writes it, and only that one counts the
 * device as provisioned. One attribute, because a thing without a thing type has only three.
 *
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_UpdateThing.html
 */

/** The attribute's name. Onboarding rules may not map an attribute of this name. */
export const ONBOARDING_BINDING_ATTRIBUTE = 'fleetkitOnboardedBy';

/** What the attribute records. */
export interface OnboardingBinding {
  /** The CA the thing is bound to. */
  readonly caCertificateId: string;
  /** The certificate JITR last onboarded for the thing. */
  readonly certificateId: string;
  /** The registration event (SQS message ID) whose attempt claimed the thing. */
  readonly attemptId: string;
}

const ATTEMPT_ID_MAX_CHARS = 100;
const BINDING_PATTERN = /^([0-9a-f]{64})\/([0-9a-f]{64})\/([a-zA-Z0-9_.:-]{1,100})$/;

/**
 * The attribute value: `<caCertificateId>/<certificateId>/<attemptId>`, within AWS IoT's attribute value
 * alphabet (an attempt ID outside it is reduced to it).
 */
export function formatBinding(binding: OnboardingBinding): string {
  const attempt = binding.attemptId.replace(/[^a-zA-Z0-9_.:-]/g, '_').slice(0, ATTEMPT_ID_MAX_CHARS) || '_';
  return `${binding.caCertificateId}/${binding.certificateId}/${attempt}`;
}

/** Reads an attribute value; anything not written by {@link formatBinding} is no binding. */
export function parseBinding(value: string | undefined): OnboardingBinding | undefined {
  const match = value === undefined ? null : BINDING_PATTERN.exec(value);
  if (!match) return undefined;
  return { caCertificateId: match[1]!, certificateId: match[2]!, attemptId: match[3]! };
}
