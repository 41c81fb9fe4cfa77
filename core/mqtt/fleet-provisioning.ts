/**
 * Payloads of the fleet provisioning MQTT API (JSON format): CreateKeysAndCertificate, CreateCertificateFromCsr
 * and RegisterThing, for the device agent (client side) and the local runtime (service side). Topics are in
 * `topics.ts`.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/fleet-provision-api.html
 */
import { z } from 'zod';

/** `$aws/certificates/create-from-csr/json`: the device's CSR (PEM); its private key never leaves the device. */
export const createCertificateFromCsrRequestSchema = z.object({
  certificateSigningRequest: z.string().min(1),
});

/** `$aws/certificates/create-from-csr/json/accepted`. */
export const createCertificateFromCsrAcceptedSchema = z.object({
  certificateId: z.string().min(1),
  certificatePem: z.string().min(1),
  certificateOwnershipToken: z.string().min(1),
});

/** `$aws/certificates/create/json/accepted`: AWS made the key too and sends it once. */
export const createKeysAndCertificateAcceptedSchema = createCertificateFromCsrAcceptedSchema.extend({
  privateKey: z.string().min(1),
});

/** `$aws/provisioning-templates/<template>/provision/json`. */
export const registerThingRequestSchema = z.object({
  certificateOwnershipToken: z.string().min(1),
  parameters: z.record(z.string(), z.string()).optional(),
});

/** `.../provision/json/accepted`: the thing the template created or found, and its device configuration. */
export const registerThingAcceptedSchema = z.object({
  thingName: z.string().min(1),
  deviceConfiguration: z.record(z.string(), z.string()).optional(),
});

/** Any `.../rejected` answer of the fleet provisioning API. */
export const provisioningErrorSchema = z.object({
  statusCode: z.number().int(),
  errorCode: z.string(),
  errorMessage: z.string().optional(),
});

/** A fleet provisioning error answer. */
export type ProvisioningError = z.infer<typeof provisioningErrorSchema>;

/**
 * Whether a provisioning error is worth retrying: throttling (429, `Throttling`) and service errors (5xx). A 400
 * (bad CSR, template parameters refused, a hook that said no) will fail the same way again.
 */
export function isRetryableProvisioningError(error: ProvisioningError): boolean {
  return error.statusCode === 429 || error.statusCode >= 500 || error.errorCode === 'Throttling';
}
