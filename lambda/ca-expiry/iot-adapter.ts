import { DescribeCACertificateCommand, IoTClient, ResourceNotFoundException } from '@aws-sdk/client-iot';
import { inspectCertificate } from '../../core/certificates/inspect';

/** What the expiry check needs to know of a registered CA. */
export interface CaValidity {
  /** ACTIVE or INACTIVE. */
  readonly status: string;
  readonly notAfter: Date;
}

/** The AWS IoT reads the expiry check makes. */
export interface CaCertificates {
  /** @returns the CA's status and expiry, or `undefined` when no CA with that ID is registered. */
  validity(caCertificateId: string): Promise<CaValidity | undefined>;
}

/**
 * CA validity over DescribeCACertificate. The only file of the function that imports the IoT client.
 *
 * The expiry is read from the certificate itself (its notAfter), which is what `validity.notAfter` reports in
 * AWS IoT; `validity` is used only when the PEM is missing (emulators report a made-up validity).
 *
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_DescribeCACertificate.html
 */
export function iotCaCertificates(client: IoTClient): CaCertificates {
  return {
    async validity(caCertificateId) {
      let description;
      try {
        description = (
          await client.send(new DescribeCACertificateCommand({ certificateId: caCertificateId }))
        ).certificateDescription;
      } catch (error) {
        if (error instanceof ResourceNotFoundException) return undefined;
        throw error;
      }
      const notAfter = description?.certificatePem
        ? inspectCertificate(description.certificatePem).notAfter
        : description?.validity?.notAfter;
      if (notAfter === undefined) {
        throw new Error(`DescribeCACertificate returned neither a PEM nor a validity for ${caCertificateId}`);
      }
      return { status: description?.status ?? 'UNKNOWN', notAfter };
    },
  };
}
