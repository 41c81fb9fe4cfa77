/**
 * AWS IoT reserved MQTT topics, one builder each, and an MQTT topic-filter matcher.
 *
 * The device agent, the local runtime's jobs data plane and rule engine, and the tests build topics here and
 * nowhere else. Every builder checks the names it puts into a topic, so a thing name or job ID can never add a
 * level (`/`) or a wildcard (`+`, `#`) to it.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/reserved-topics.html
 */
import {
  JOB_ID_PATTERN,
  PROVISIONING_TEMPLATE_NAME_PATTERN,
  SHADOW_NAME_PATTERN,
  THING_NAME_PATTERN,
} from '../limits';
import { FleetkitError } from '../errors';

/** A name given to a topic builder cannot appear in a topic. */
export class TopicNameError extends FleetkitError {
  override readonly name = 'TopicNameError';
}

/** Response suffixes of a request topic. */
export type ResponseKind = 'accepted' | 'rejected';

function check(kind: string, value: string, pattern: RegExp): string {
  if (!pattern.test(value)) {
    throw new TopicNameError(
      `${kind} ${JSON.stringify(value)} is not allowed in a topic (expected ${pattern}).`,
    );
  }
  return value;
}

const thing = (name: string): string => check('thing name', name, THING_NAME_PATTERN);
/** `$next` is the jobs API's alias for the next pending execution (DescribeJobExecution only). */
const jobId = (id: string, allowNext = false): string =>
  allowNext && id === '$next' ? id : check('job ID', id, JOB_ID_PATTERN);
const suffix = (response?: ResponseKind): string => (response === undefined ? '' : `/${response}`);

/**
 * Topics of the AWS IoT Jobs MQTT API for one thing.
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/jobs-mqtt-api.html
 */
export const jobsTopics = {
  /** Where the next pending execution (or its absence) is announced. */
  notifyNext: (thingName: string): string => `$aws/things/${thing(thingName)}/jobs/notify-next`,
  /** Where the list of pending executions is announced when it changes. */
  notify: (thingName: string): string => `$aws/things/${thing(thingName)}/jobs/notify`,
  /** GetPendingJobExecutions request, or its response topic. */
  getPending: (thingName: string, response?: ResponseKind): string =>
    `$aws/things/${thing(thingName)}/jobs/get${suffix(response)}`,
  /** StartNextPendingJobExecution request, or its response topic. */
  startNext: (thingName: string, response?: ResponseKind): string =>
    `$aws/things/${thing(thingName)}/jobs/start-next${suffix(response)}`,
  /** DescribeJobExecution request (`jobId` may be `$next`), or its response topic. */
  describe: (thingName: string, id: string, response?: ResponseKind): string =>
    `$aws/things/${thing(thingName)}/jobs/${jobId(id, true)}/get${suffix(response)}`,
  /** UpdateJobExecution request, or its response topic. */
  update: (thingName: string, id: string, response?: ResponseKind): string =>
    `$aws/things/${thing(thingName)}/jobs/${jobId(id)}/update${suffix(response)}`,
} as const;

/** Shadow operations and the topics the shadow service publishes on. */
export type ShadowTopicKind =
  | 'update'
  | 'update/accepted'
  | 'update/rejected'
  | 'update/delta'
  | 'update/documents'
  | 'get'
  | 'get/accepted'
  | 'get/rejected'
  | 'delete'
  | 'delete/accepted'
  | 'delete/rejected';

/** Name of the reserved named shadow of the software package catalog. */
export const PACKAGE_SHADOW_NAME = '$package';

/**
 * A shadow topic: the classic shadow when `shadowName` is undefined, otherwise that named shadow
 * (`$package` included).
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/reserved-topics.html#reserved-topics-shadow
 */
export function shadowTopic(thingName: string, kind: ShadowTopicKind, shadowName?: string): string {
  const base = `$aws/things/${thing(thingName)}/shadow`;
  if (shadowName === undefined) return `${base}/${kind}`;
  const name =
    shadowName === PACKAGE_SHADOW_NAME ? shadowName : check('shadow name', shadowName, SHADOW_NAME_PATTERN);
  return `${base}/name/${name}/${kind}`;
}

/**
 * Fleet provisioning topics (CreateKeysAndCertificate, CreateCertificateFromCsr, RegisterThing), JSON payloads.
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/fleet-provision-api.html
 */
export const provisioningTopics = {
  createKeysAndCertificate: (response?: ResponseKind): string =>
    `$aws/certificates/create/json${suffix(response)}`,
  createCertificateFromCsr: (response?: ResponseKind): string =>
    `$aws/certificates/create-from-csr/json${suffix(response)}`,
  registerThing: (templateName: string, response?: ResponseKind): string =>
    `$aws/provisioning-templates/${check('provisioning template name', templateName, PROVISIONING_TEMPLATE_NAME_PATTERN)}/provision/json${suffix(response)}`,
} as const;

/** CA certificate IDs: SHA-256 of the CA's DER, 64 hex characters. */
const CA_CERTIFICATE_ID_PATTERN = /^[0-9a-f]{64}$/;
/**
 * MQTT client IDs as they can appear in a presence topic: anything but a topic separator or wildcard. AWS IoT
 * client IDs are up to 128 bytes.
 */
const CLIENT_ID_PATTERN = /^[^/+#\u0000]{1,128}$/;

/** Job execution events (`$aws/events/jobExecution/<jobId>/<kind>`). */
export type JobExecutionEventKind =
  'succeeded' | 'failed' | 'rejected' | 'canceled' | 'timed_out' | 'removed' | 'deleted';

/**
 * Registry, presence and jobs event topics (`$aws/events/...`).
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/registry-events.html
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/life-cycle-events.html
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/events-jobs.html
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/auto-register-device-cert.html
 */
export const eventTopics = {
  certificateRegistered: (caCertificateId: string): string =>
    `$aws/events/certificates/registered/${check('CA certificate ID', caCertificateId, CA_CERTIFICATE_ID_PATTERN)}`,
  presence: (kind: 'connected' | 'disconnected', clientId: string): string =>
    `$aws/events/presence/${kind}/${check('client ID', clientId, CLIENT_ID_PATTERN)}`,
  thing: (thingName: string, kind: 'created' | 'updated' | 'deleted'): string =>
    `$aws/events/thing/${thing(thingName)}/${kind}`,
  job: (id: string, kind: 'completed' | 'canceled' | 'deleted'): string =>
    `$aws/events/job/${jobId(id)}/${kind}`,
  jobExecution: (id: string, kind: JobExecutionEventKind): string =>
    `$aws/events/jobExecution/${jobId(id)}/${kind}`,
  thingTypeAssociation: (thingName: string, thingTypeName: string): string =>
    `$aws/events/thingTypeAssociation/thing/${thing(thingName)}/${check('thing type name', thingTypeName, THING_NAME_PATTERN)}`,
  thingGroupMembership: (groupName: string, thingName: string, kind: 'added' | 'removed'): string =>
    `$aws/events/thingGroupMembership/thingGroup/${check('thing group name', groupName, THING_NAME_PATTERN)}/thing/${thing(thingName)}/${kind}`,
} as const;

/**
 * Topic filters of every event of one event configuration type, for topic rules: each `$aws/events/...` topic of
 * the type with its names as `+`. (CERTIFICATE, CA_CERTIFICATE and POLICY have no documented topic here.)
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/registry-events.html
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/events-jobs.html
 */
export const EVENT_TOPIC_FILTERS = {
  THING: '$aws/events/thing/+/+',
  THING_TYPE: '$aws/events/thingType/+/+',
  THING_TYPE_ASSOCIATION: '$aws/events/thingTypeAssociation/thing/+/+',
  THING_GROUP: '$aws/events/thingGroup/+/+',
  THING_GROUP_MEMBERSHIP: '$aws/events/thingGroupMembership/thingGroup/+/thing/+/+',
  THING_GROUP_HIERARCHY: '$aws/events/thingGroupHierarchy/thingGroup/+/childThingGroup/+/+',
  JOB: '$aws/events/job/+/+',
  JOB_EXECUTION: '$aws/events/jobExecution/+/+',
} as const;

/** A topic filter breaks the MQTT rules for wildcards. */
export class TopicFilterError extends FleetkitError {
  override readonly name = 'TopicFilterError';
}

/**
 * Checks a topic filter against the MQTT rules: not empty; `+` only as a whole level; `#` only as the whole last
 * level; no NUL.
 *
 * @throws {TopicFilterError} naming the broken rule.
 * @see https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901241
 */
export function assertTopicFilter(filter: string): void {
  if (filter.length === 0) throw new TopicFilterError('A topic filter must not be empty.');
  if (filter.includes('\u0000')) throw new TopicFilterError('A topic filter must not contain NUL.');
  const levels = filter.split('/');
  levels.forEach((level, index) => {
    if (level.includes('#') && (level !== '#' || index !== levels.length - 1)) {
      throw new TopicFilterError(`"#" must be the whole last level of a topic filter: ${filter}`);
    }
    if (level.includes('+') && level !== '+') {
      throw new TopicFilterError(`"+" must be a whole level of a topic filter: ${filter}`);
    }
  });
}

/**
 * Whether `topic` matches the MQTT topic filter `filter` (`+` one level, `#` this level and all below).
 *
 * As MQTT requires, a filter that starts with a wildcard does not match a topic that starts with `$` (so `#`
 * does not receive `$aws/...`). Topic names with wildcards never match.
 *
 * @throws {TopicFilterError} when `filter` is not a valid topic filter.
 * @see https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901246
 */
export function topicMatches(filter: string, topic: string): boolean {
  assertTopicFilter(filter);
  if (topic.length === 0 || /[+#\u0000]/.test(topic)) return false;
  const filterLevels = filter.split('/');
  const topicLevels = topic.split('/');
  if (topic.startsWith('$') && (filterLevels[0] === '+' || filterLevels[0] === '#')) return false;
  for (let i = 0; i < filterLevels.length; i++) {
    const level = filterLevels[i];
    if (level === '#') return true;
    if (i >= topicLevels.length) return false;
    if (level !== '+' && level !== topicLevels[i]) return false;
  }
  return filterLevels.length === topicLevels.length;
}
