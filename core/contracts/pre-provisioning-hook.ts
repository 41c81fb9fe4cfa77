/**
 * The pre-provisioning hook's contract with the infrastructure that deploys it: its settings, their one zod
 * schema, and how they travel in its environment. The fleet configuration validates `fleetProvisioning` with the
 * same schemas at synth, so a setting that would make the deployed hook deny every device (an empty parameter
 * name, a default the allowed values exclude, ...) fails `cdk synth` instead; the construct sets the environment
 * with {@link preProvisioningHookContract}'s `encode`, and the hook reads it with its `decode`.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/pre-provisioning-hook.html
 */
import { z } from 'zod';
import { DYNAMODB_EXPRESSION_MAX_BYTES, DYNAMODB_IN_OPERANDS_MAX, PROVISIONING_LIMITS } from '../limits';
import {
  DEFAULT_REPROVISIONING,
  DEFAULT_SERIAL_NUMBER_PARAMETER,
  PROVISIONED_AT_ATTRIBUTE,
  PROVISIONED_CERTIFICATE_ID_ATTRIBUTE,
  PROVISIONING_ALLOW_LIST_KEY,
  REPROVISIONING_MODES,
} from '../provisioning/allow-list';
import { overrideItemCondition, type ParameterOverrides } from '../provisioning/parameter-overrides';
import { FLEETKIT_SERVICES } from '../metrics';
import {
  defineContract,
  integer,
  integerRange,
  json,
  text,
  variable,
  type ContractSettings,
} from './contract';

/** Default lookup deadline: well inside the 5 s AWS IoT gives the hook, leaving room for a cold start. */
export const DEFAULT_LOOKUP_TIMEOUT_MS = 3000;
/** The shortest lookup deadline accepted. */
export const MIN_LOOKUP_TIMEOUT_MS = 100;
/** The longest lookup deadline accepted: the rest of the 5 s is needed to start, log and answer. */
export const MAX_LOOKUP_TIMEOUT_MS =
  PROVISIONING_LIMITS.preProvisioningHookTimeoutSeconds.value * 1000 - 1000;

/**
 * Template parameter names Fleetkit accepts for parameters the device or the hook sets: letters, digits and `_`,
 * 1 to 64. (AWS fills the `AWS::IoT::Certificate::Id` parameter itself; no device or hook sets a name with `:`.)
 */
export const TEMPLATE_PARAMETER_NAME_PATTERN = /^[A-Za-z0-9_]{1,64}$/;

/** Allow-list item attributes that may decide a parameter: not the key, not the hook's stamp. */
export const OVERRIDE_ATTRIBUTE_PATTERN = /^[A-Za-z0-9_.-]{1,255}$/;

/**
 * What the claim's own condition (the key, the stamp) takes of DynamoDB's 4 KB expression, reserved before the
 * overrides' part: the claim condition is about 110 characters, the re-claim's fewer.
 */
const CLAIM_CONDITION_RESERVE = 256;

const RESERVED_ATTRIBUTES: readonly string[] = [
  PROVISIONING_ALLOW_LIST_KEY,
  PROVISIONED_CERTIFICATE_ID_ATTRIBUTE,
  PROVISIONED_AT_ATTRIBUTE,
];

/** A template parameter the device or the hook sets. */
export const templateParameterNameSchema = z.string().regex(TEMPLATE_PARAMETER_NAME_PATTERN, {
  message: 'must be a template parameter name: 1-64 letters, digits and _',
});

const overrideObjectSchema = z
  .object({
    /** The template parameter the attribute decides. */
    parameter: templateParameterNameSchema,
    /** The value when the item has no such attribute. @default - none: the device is denied */
    default: z
      .string()
      .min(1, { message: 'must not be empty: leave it out to deny devices whose item lacks a value' })
      .optional(),
    /** The only values the item may give. @default - any non-empty string */
    allowedValues: z
      .array(z.string().min(1, { message: 'must not be empty' }))
      .min(1, { message: 'must list at least one value: leave it out to allow any' })
      .max(DYNAMODB_IN_OPERANDS_MAX.value, {
        message: `may list at most ${DYNAMODB_IN_OPERANDS_MAX.value} values (the DynamoDB IN list the hook's claim uses, ${DYNAMODB_IN_OPERANDS_MAX.source})`,
      })
      .readonly()
      .optional(),
  })
  .strict()
  .superRefine((override, ctx) => {
    const allowed = override.allowedValues;
    if (allowed === undefined) return;
    allowed.forEach((value, index) => {
      if (allowed.indexOf(value) !== index) {
        ctx.addIssue({
          code: 'custom',
          path: ['allowedValues', index],
          input: value,
          message: 'is listed twice',
        });
      }
    });
    if (override.default !== undefined && !allowed.includes(override.default)) {
      ctx.addIssue({
        code: 'custom',
        path: ['default'],
        input: override.default,
        message: `is not one of allowedValues (${allowed.join(', ')}), so the hook could never give it`,
      });
    }
  });

/**
 * How one allow-list item attribute decides a template parameter: the parameter's name (shorthand), or
 * `{ parameter, default?, allowedValues? }`.
 */
export const parameterOverrideSchema = z.union(
  // The shorthand goes through the object's schema, so that a bad name is reported as the object's would be.
  [
    z
      .string()
      .transform((parameter) => ({ parameter }))
      .pipe(overrideObjectSchema),
    overrideObjectSchema,
  ],
  { message: 'must be a template parameter name, or { parameter, default?, allowedValues? }' },
);

/**
 * Item attribute → the template parameter it decides. Each parameter is decided by one attribute; the key and
 * the stamp attributes decide nothing; the claim condition they make must fit DynamoDB's expression size.
 */
export const parameterOverridesSchema = z
  .record(
    z.string().regex(OVERRIDE_ATTRIBUTE_PATTERN, {
      message: 'must be an allow-list item attribute name: 1-255 letters, digits and _.-',
    }),
    parameterOverrideSchema,
  )
  .superRefine((overrides, ctx) => {
    const byParameter = new Map<string, string>();
    for (const [attribute, override] of Object.entries(overrides)) {
      if (RESERVED_ATTRIBUTES.includes(attribute)) {
        ctx.addIssue({
          code: 'custom',
          path: [attribute],
          input: attribute,
          message: `is the allow-list's key or the hook's stamp (${RESERVED_ATTRIBUTES.join(', ')}), not a value for a parameter`,
        });
      }
      const other = byParameter.get(override.parameter);
      if (other !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [attribute, 'parameter'],
          input: override.parameter,
          message: `is decided by ${other} already; one attribute decides each parameter`,
        });
      }
      byParameter.set(override.parameter, attribute);
    }
    const condition = overrideItemCondition(overrides);
    const size = condition === undefined ? 0 : Buffer.byteLength(condition.expression, 'utf8');
    if (size > DYNAMODB_EXPRESSION_MAX_BYTES.value - CLAIM_CONDITION_RESERVE) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        input: Object.keys(overrides).length,
        message: `make a claim condition of ${size} bytes; DynamoDB allows ${DYNAMODB_EXPRESSION_MAX_BYTES.value} for a whole expression (${DYNAMODB_EXPRESSION_MAX_BYTES.source}), ${CLAIM_CONDITION_RESERVE} of which the claim itself needs: list fewer overrides or allowed values`,
      });
    }
  });

/** The overrides as written in the configuration. */
export type ParameterOverridesInput = z.input<typeof parameterOverridesSchema>;

/**
 * Refuses an override of the serial number parameter: the serial number is the device's to give, and the
 * allow-list is looked up by it. A refinement for any schema with `serialNumberParameter` and `parameterOverrides`
 * (the hook's settings, the fleet configuration's `fleetProvisioning`).
 */
export function refineSerialNumberNotOverridden(
  settings: { readonly serialNumberParameter: string; readonly parameterOverrides: ParameterOverrides },
  ctx: z.RefinementCtx,
): void {
  for (const [attribute, override] of Object.entries(settings.parameterOverrides)) {
    if (override.parameter !== settings.serialNumberParameter) continue;
    ctx.addIssue({
      code: 'custom',
      path: ['parameterOverrides', attribute, 'parameter'],
      input: override.parameter,
      message:
        'is the serial number parameter, which the device gives and the allow-list is looked up by; the hook cannot decide it',
    });
  }
}

/** The hook's settings and their variables. */
export const preProvisioningHookContract = defineContract({
  functionName: 'pre-provisioning-hook',
  service: FLEETKIT_SERVICES.preProvisioningHook,
  variables: {
    /** The fleet provisioning allow-list table, keyed by `serialNumber`. */
    tableName: text(
      'FLEETKIT_PROVISIONING_ALLOW_LIST_TABLE',
      z.string().regex(/^[a-zA-Z0-9_.-]{3,255}$/, { message: 'must be a DynamoDB table name' }),
    ),
    /** The RegisterThing parameter that carries the serial number. */
    serialNumberParameter: text(
      'FLEETKIT_SERIAL_NUMBER_PARAMETER',
      templateParameterNameSchema.default(DEFAULT_SERIAL_NUMBER_PARAMETER),
    ),
    /** The parameters the hook decides, each from an allow-list item attribute. */
    parameterOverrides: json('FLEETKIT_PARAMETER_OVERRIDES', parameterOverridesSchema.default({})),
    /** Milliseconds the allow-list lookup may take, retries included, before the request is denied. */
    lookupTimeoutMs: integer(
      'FLEETKIT_LOOKUP_TIMEOUT_MS',
      integerRange(MIN_LOOKUP_TIMEOUT_MS, MAX_LOOKUP_TIMEOUT_MS).default(DEFAULT_LOOKUP_TIMEOUT_MS),
    ),
    /**
     * Whether a provisioned serial number may provision again with another certificate. An empty value is
     * refused rather than taken for the default: it is a security setting, and an edit that blanked it is a
     * mistake to report.
     */
    reprovisioning: variable({
      name: 'FLEETKIT_REPROVISIONING',
      schema: z.enum(REPROVISIONING_MODES).default(DEFAULT_REPROVISIONING),
      emptyIsUnset: false,
    }),
  },
  refine: refineSerialNumberNotOverridden,
});

/** The hook's settings, defaults applied. */
export type PreProvisioningHookSettings = ContractSettings<typeof preProvisioningHookContract>;
