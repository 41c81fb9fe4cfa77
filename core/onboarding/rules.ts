import { z } from 'zod';
import { ATTRIBUTE_NAME_PATTERN, GROUP_NAME_PATTERN, REGISTRY_LIMITS } from '../limits';
import { CERTIFICATE_FIELD_VALUE_MAX_LENGTH } from '../limits';
import { ONBOARDING_BINDING_ATTRIBUTE } from './binding';
import { CERTIFICATE_FIELDS } from './certificate-fields';
import { findCatastrophicBacktracking } from './regex-safety';

/** Elliptic curves a device key may use. */
export const EC_CURVES = ['P-256', 'P-384', 'P-521'] as const;

/** The smallest RSA modulus Fleetkit accepts for a device key, in bits. */
export const MIN_RSA_BITS = 2048;

const field = z.enum(CERTIFICATE_FIELDS);

const regex = z
  .string()
  .refine(
    (source) => {
      try {
        new RegExp(source);
        return true;
      } catch {
        return false;
      }
    },
    { message: 'must be a valid JavaScript regular expression', abort: true },
  )
  .superRefine((source, ctx) => {
    const nested = findCatastrophicBacktracking(source);
    if (nested !== undefined) {
      ctx.addIssue({
        code: 'custom',
        input: source,
        message: `repeats a group that itself repeats or alternates (${nested}), which takes exponential time on a near-miss (catastrophic backtracking); write it without the nesting, e.g. a character class ([ab]+) or a single repetition`,
      });
    }
  });

/**
 * How a device certificate becomes a thing: which certificate field names it, which fields become attributes,
 * its type, its group, and which certificates are acceptable at all.
 *
 * One definition serves the fleet configuration (validated at synth), the JITR function (which receives it as
 * JSON) and the local runtime. Field names follow the JITP parameter names.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/auto-register-device-cert.html
 */
export const onboardingRulesSchema = z
  .object({
    /** The thing name: a certificate field, optionally narrowed by a regular expression's first capture group. */
    thingName: z
      .object({
        field: field.default('CommonName'),
        /**
         * Refused at validation when it nests repetitions (see core/onboarding/regex-safety.ts); run on at
         * most THING_NAME_SOURCE_MAX_CHARS characters (core/onboarding/evaluate.ts).
         */
        pattern: regex.optional(),
      })
      .strict()
      .default({ field: 'CommonName' }),
    /** Thing type for every onboarded thing. @default - no thing type (at most 3 attributes, one the binding) */
    thingTypeName: z
      .string()
      .regex(GROUP_NAME_PATTERN, 'must be 1-128 characters of [a-zA-Z0-9:_-]')
      .optional(),
    /**
     * Thing attributes, each read from a certificate field. JITR adds one more,
     * {@link ONBOARDING_BINDING_ATTRIBUTE}, which counts towards the thing's limit.
     */
    attributes: z
      .record(
        z.string().regex(ATTRIBUTE_NAME_PATTERN, 'must be 1-128 characters of [a-zA-Z0-9_.,@/:#-]'),
        field,
      )
      .default({}),
    /** The static group a new thing joins when no group rule matches. @default - no group */
    thingGroupName: z
      .string()
      .regex(GROUP_NAME_PATTERN, 'must be 1-128 characters of [a-zA-Z0-9:_-]')
      .optional(),
    /** Group rules, first match wins: a certificate field equal to a value puts the thing in a group. */
    groupRules: z
      .array(
        z
          .object({
            field,
            equals: z
              .string()
              .min(1)
              .max(CERTIFICATE_FIELD_VALUE_MAX_LENGTH.value, {
                message: `must be 1 to ${CERTIFICATE_FIELD_VALUE_MAX_LENGTH.value} characters: no certificate field a rule reads is longer (${CERTIFICATE_FIELD_VALUE_MAX_LENGTH.source})`,
              }),
            thingGroupName: z
              .string()
              .regex(GROUP_NAME_PATTERN, 'must be 1-128 characters of [a-zA-Z0-9:_-]'),
          })
          .strict(),
      )
      .default([]),
    /** Device keys Fleetkit accepts. */
    keyPolicy: z
      .object({
        ecCurves: z.array(z.enum(EC_CURVES)).min(1).default(['P-256', 'P-384']),
        rsaMinimumBits: z
          .number()
          .int()
          .min(MIN_RSA_BITS, `must be at least ${MIN_RSA_BITS}`)
          .max(16384, 'must be at most 16384')
          .optional(),
      })
      .strict()
      .default({ ecCurves: ['P-256', 'P-384'] }),
    /** Accept only devices whose thing name is in the allow-list table. */
    requireAllowList: z.boolean().default(false),
    /**
     * Let a second certificate from the thing's own CA onboard a thing that still has an ACTIVE certificate (or
     * one being onboarded), for certificate rotation. Off, such a certificate is set aside
     * (`THING_HAS_CERTIFICATE`). A certificate from another CA is refused either way. JITR only: JITP and
     * fleet provisioning do not read it.
     */
    allowCertificateRotation: z.boolean().default(false),
  })
  .strict()
  .superRefine((rules, ctx) => {
    const count = Object.keys(rules.attributes).length;
    const max = rules.thingTypeName
      ? REGISTRY_LIMITS.attributesPerTypedThing
      : REGISTRY_LIMITS.attributesPerUntypedThing;
    if (ONBOARDING_BINDING_ATTRIBUTE in rules.attributes) {
      ctx.addIssue({
        code: 'custom',
        path: ['attributes', ONBOARDING_BINDING_ATTRIBUTE],
        input: ONBOARDING_BINDING_ATTRIBUTE,
        message: `is reserved: JITR records the onboarding binding under ${ONBOARDING_BINDING_ATTRIBUTE}; map the field under another name`,
      });
    }
    // One attribute is the onboarding binding (core/onboarding/binding.ts).
    if (count + 1 > max.value) {
      ctx.addIssue({
        code: 'custom',
        path: ['attributes'],
        input: count,
        message: `${count} attributes mapped; a thing ${rules.thingTypeName ? 'with' : 'without'} a thing type can have at most ${max.value} (${max.source}), one of them ${ONBOARDING_BINDING_ATTRIBUTE}, the onboarding binding: map at most ${max.value - 1}${rules.thingTypeName ? '' : ', or give onboarded things a type'}`,
      });
    }
  });

/** Onboarding rules as written in the configuration (defaults optional). */
export type OnboardingRulesInput = z.input<typeof onboardingRulesSchema>;

/** Onboarding rules with defaults applied. */
export type OnboardingRules = z.output<typeof onboardingRulesSchema>;
