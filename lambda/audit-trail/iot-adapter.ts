import { IoTClient, ListPrincipalThingsCommand, ResourceNotFoundException } from '@aws-sdk/client-iot';
import { IOT_LIST_PAGE_SIZE_MAX } from '../../core/limits';

/** The things a certificate is attached to now. */
export type CertificateThings = (certificateArn: string) => Promise<string[]>;

/**
 * ListPrincipalThings, every page. The only file of the function that imports the IoT client; its role may only
 * ListPrincipalThings. A certificate deleted meanwhile is attached to nothing.
 */
export function iotCertificateThings(client: IoTClient): CertificateThings {
  return async (principal) => {
    const things: string[] = [];
    let nextToken: string | undefined;
    do {
      let page;
      try {
        page = await client.send(
          new ListPrincipalThingsCommand({ principal, maxResults: IOT_LIST_PAGE_SIZE_MAX.value, nextToken }),
        );
      } catch (error) {
        if (error instanceof ResourceNotFoundException) return [];
        throw error;
      }
      things.push(...(page.things ?? []));
      nextToken = page.nextToken ?? undefined;
    } while (nextToken !== undefined);
    return things;
  };
}
