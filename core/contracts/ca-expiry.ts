/**
 * The CA expiry function's contract with the construct that deploys it (lambda/ca-expiry/,
 * lib/constructs/ca-expiry-monitor.ts): the CAs it watches and how it calls AWS.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/manage-your-CA-certs.html
 */
import { z } from 'zod';
import { CA_NAME_PATTERN } from '../limits';
import { FLEETKIT_SERVICES } from '../metrics';
import { sdkMaxAttempts } from './common';
import { defineContract, variable } from './contract';

/** AWS IoT certificate IDs: the SHA-256 of the certificate's DER, in hex. */
const CERTIFICATE_ID_PATTERN = /^[0-9a-f]{64}$/;

/** A CA whose expiry is watched: its name in the fleet configuration (the `caName` dimension) and its ID. */
const watchedCaSchema = z
  .object({
    /** @default - the certificate ID */
    name: z
      .string()
      .regex(CA_NAME_PATTERN, {
        message: 'must be a letter followed by up to 62 letters, digits or hyphens',
      })
      .optional(),
    caCertificateId: z
      .string()
      .transform((id) => id.toLowerCase())
      .pipe(z.string().regex(CERTIFICATE_ID_PATTERN, { message: 'must be 64 hex characters' })),
  })
  .strict()
  .transform(({ name, caCertificateId }) => ({ name: name ?? caCertificateId, caCertificateId }));

/** A watched CA, as the function reads it. */
export type WatchedCa = z.output<typeof watchedCaSchema>;

/** The CA expiry function's settings and their variables. */
export const caExpiryContract = defineContract({
  functionName: 'ca-expiry',
  service: FLEETKIT_SERVICES.caExpiry,
  variables: {
    /**
     * The CAs to watch: comma-separated entries, each `<caName>=<caCertificateId>`, or a bare ID, whose name is
     * then the ID.
     */
    certificateAuthorities: variable({
      name: 'FLEETKIT_CA_CERTIFICATE_IDS',
      schema: z
        .array(watchedCaSchema)
        .min(1, { message: 'lists no CA certificate ID' })
        .superRefine((cas, ctx) => {
          cas.forEach((ca, index) => {
            if (cas.findIndex((other) => other.caCertificateId === ca.caCertificateId) !== index) {
              ctx.addIssue({
                code: 'custom',
                path: [index, 'caCertificateId'],
                input: ca.caCertificateId,
                message: 'is listed twice',
              });
            }
          });
        }),
      format: (cas) => cas.map((ca) => `${ca.name}=${ca.caCertificateId}`).join(','),
      read: (text) =>
        text
          .split(',')
          .map((entry) => entry.trim())
          .filter((entry) => entry !== '')
          .map((entry) => {
            const at = entry.indexOf('=');
            return at === -1
              ? { caCertificateId: entry }
              : { name: entry.slice(0, at), caCertificateId: entry.slice(at + 1) };
          }),
    }),
    sdkMaxAttempts,
  },
});
