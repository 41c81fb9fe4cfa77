/**
 * Routes publishes on reserved `$aws/...` topics to the runtime's services. A device may publish only on the
 * request topics of the AWS IoT services (jobs, shadows, fleet provisioning) and on Basic Ingest topics; any other
 * `$aws` topic is refused, as AWS IoT refuses it.
 *
 * Development and test tooling: never deployed.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/reserved-topics.html
 */
import type { MessageBus } from './bus';
import type { ClientIdentity } from './front/connection';

/** A service that takes some reserved request topics. */
export interface ReservedTopicService {
  /** Handles the request when the topic is one of this service's; false when it is not. */
  handle(topic: string, payload: Buffer, client: ClientIdentity): Promise<boolean> | boolean;
}

/** `$aws/rules/<ruleName>/<topic...>`: Basic Ingest, straight to the named rule (the bus), never to subscribers. */
const BASIC_INGEST = /^\$aws\/rules\/[a-zA-Z0-9_]+\/.+/;

/** The router the front calls for every allowed publish on a `$` topic. */
export function reservedTopicRouter(services: readonly ReservedTopicService[], bus: MessageBus) {
  return async (topic: string, payload: Buffer, client: ClientIdentity): Promise<boolean> => {
    if (BASIC_INGEST.test(topic)) {
      bus.offer({
        topic,
        payload,
        qos: 0,
        source: {
          kind: 'device',
          clientId: client.clientId,
          ...(client.thingName !== undefined && { thingName: client.thingName }),
          principal: client.certificateId,
          sourceIp: client.sourceIp,
        },
        timestamp: Date.now(),
        basicIngest: true,
      });
      return true;
    }
    for (const service of services) {
      if (await service.handle(topic, payload, client)) return true;
    }
    return false;
  };
}
