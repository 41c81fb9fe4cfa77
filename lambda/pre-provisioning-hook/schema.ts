import { z } from 'zod';

const certificateId = z.string().regex(/^[0-9a-fA-F]{64}$/, { message: 'must be 64 hexadecimal characters' });

/**
 * What AWS IoT sends the pre-provisioning hook for each RegisterThing request. `parameters` are those of the
 * device's RegisterThing payload, which the documentation marks optional.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/pre-provisioning-hook.html
 */
export const preProvisioningHookEventSchema = z.object({
  claimCertificateId: certificateId,
  certificateId,
  certificatePem: z.string().min(1),
  templateArn: z.string().regex(/^arn:[^:]+:iot:[^:]*:[^:]*:provisioningtemplate\/[0-9A-Za-z_-]+$/, {
    message: 'must be a provisioning template ARN',
  }),
  clientId: z.string(),
  parameters: z.record(z.string(), z.string()).optional(),
});

/** A pre-provisioning hook request. */
export type PreProvisioningHookEvent = z.infer<typeof preProvisioningHookEventSchema>;

/**
 * What the hook answers. Provisioning proceeds only with `allowProvisioning: true`; `parameterOverrides` are
 * added to the RegisterThing request's parameters.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/pre-provisioning-hook.html
 */
export interface PreProvisioningHookResponse {
  readonly allowProvisioning: boolean;
  readonly parameterOverrides?: Readonly<Record<string, string>>;
}

/** The event, or why it is not one. Never throws: a malformed request is denied, not retried. */
export function parseHookEvent(
  event: unknown,
):
  | { readonly ok: true; readonly event: PreProvisioningHookEvent }
  | { readonly ok: false; readonly reason: string } {
  const parsed = preProvisioningHookEventSchema.safeParse(event);
  if (parsed.success) return { ok: true, event: parsed.data };
  return {
    ok: false,
    reason: parsed.error.issues
      .map((issue) => `${issue.path.join('.') || '(event)'}: ${issue.message}`)
      .join('; '),
  };
}
