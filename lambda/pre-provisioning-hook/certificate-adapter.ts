import { DescribeCertificateCommand, IoTClient, ResourceNotFoundException } from '@aws-sdk/client-iot';
import { hookClientConfig } from './client-config';

/**
 * The status of a certificate in the AWS IoT registry (`ACTIVE`, `REVOKED`, `PENDING_ACTIVATION`, ...), or
 * `undefined` when no such certificate exists. Rejects when the lookup fails.
 */
export type CertificateStatusLookup = (
  certificateId: string,
  signal: AbortSignal,
) => Promise<string | undefined>;

/** The AWS IoT client the hook uses: see {@link hookClientConfig}. */
export function hookIotClient(): IoTClient {
  return new IoTClient(hookClientConfig());
}

/**
 * Certificate statuses over the AWS IoT API (DescribeCertificate), the only place the hook talks to AWS IoT.
 * Only the status is read: the description's PEM is neither kept nor logged.
 *
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_DescribeCertificate.html
 */
export function iotCertificateStatus(client: IoTClient): CertificateStatusLookup {
  return async (certificateId, signal) => {
    try {
      const { certificateDescription } = await client.send(
        new DescribeCertificateCommand({ certificateId }),
        {
          abortSignal: signal,
        },
      );
      const status = certificateDescription?.status;
      if (status === undefined) {
        throw new Error(`DescribeCertificate returned no status for certificate ${certificateId}`);
      }
      return status;
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return undefined;
      throw error;
    }
  };
}
