import {
  assertTopicFilter,
  eventTopics,
  jobsTopics,
  PACKAGE_SHADOW_NAME,
  provisioningTopics,
  shadowTopic,
  TopicFilterError,
  TopicNameError,
  topicMatches,
} from '../../../core/mqtt/topics';

const CA_ID = 'ab'.repeat(32);

describe('topic builders', () => {
  it.each<[string, string]>([
    [jobsTopics.notifyNext('dev-1'), '$aws/things/dev-1/jobs/notify-next'],
    [jobsTopics.notify('dev-1'), '$aws/things/dev-1/jobs/notify'],
    [jobsTopics.getPending('dev-1'), '$aws/things/dev-1/jobs/get'],
    [jobsTopics.getPending('dev-1', 'accepted'), '$aws/things/dev-1/jobs/get/accepted'],
    [jobsTopics.startNext('dev-1'), '$aws/things/dev-1/jobs/start-next'],
    [jobsTopics.startNext('dev-1', 'rejected'), '$aws/things/dev-1/jobs/start-next/rejected'],
    [jobsTopics.describe('dev-1', 'fw-1'), '$aws/things/dev-1/jobs/fw-1/get'],
    [jobsTopics.describe('dev-1', '$next', 'accepted'), '$aws/things/dev-1/jobs/$next/get/accepted'],
    [jobsTopics.update('dev-1', 'fw-1'), '$aws/things/dev-1/jobs/fw-1/update'],
    [jobsTopics.update('dev-1', 'fw-1', 'accepted'), '$aws/things/dev-1/jobs/fw-1/update/accepted'],
    [shadowTopic('dev-1', 'update'), '$aws/things/dev-1/shadow/update'],
    [shadowTopic('dev-1', 'update/delta'), '$aws/things/dev-1/shadow/update/delta'],
    [shadowTopic('dev-1', 'get/accepted', 'config'), '$aws/things/dev-1/shadow/name/config/get/accepted'],
    [shadowTopic('dev-1', 'update', PACKAGE_SHADOW_NAME), '$aws/things/dev-1/shadow/name/$package/update'],
    [provisioningTopics.createKeysAndCertificate(), '$aws/certificates/create/json'],
    [provisioningTopics.createKeysAndCertificate('accepted'), '$aws/certificates/create/json/accepted'],
    [
      provisioningTopics.createCertificateFromCsr('rejected'),
      '$aws/certificates/create-from-csr/json/rejected',
    ],
    [provisioningTopics.registerThing('fleet-tmpl'), '$aws/provisioning-templates/fleet-tmpl/provision/json'],
    [
      provisioningTopics.registerThing('fleet-tmpl', 'accepted'),
      '$aws/provisioning-templates/fleet-tmpl/provision/json/accepted',
    ],
    [eventTopics.certificateRegistered(CA_ID), `$aws/events/certificates/registered/${CA_ID}`],
    [eventTopics.presence('connected', 'dev-1'), '$aws/events/presence/connected/dev-1'],
    [eventTopics.thing('dev-1', 'created'), '$aws/events/thing/dev-1/created'],
    [eventTopics.job('fw-1', 'completed'), '$aws/events/job/fw-1/completed'],
    [eventTopics.jobExecution('fw-1', 'timed_out'), '$aws/events/jobExecution/fw-1/timed_out'],
  ])('%s', (built, expected) => {
    expect(built).toBe(expected);
  });

  it.each<[string, () => string]>([
    ['a thing name with a slash', () => jobsTopics.notifyNext('a/b')],
    ['a thing name with a wildcard', () => shadowTopic('dev+', 'update')],
    ['a thing name with #', () => jobsTopics.startNext('#')],
    ['an empty thing name', () => jobsTopics.notify('')],
    ['a job ID with a slash', () => jobsTopics.update('dev', 'a/b')],
    ['$next outside describe', () => jobsTopics.update('dev', '$next')],
    ['a 65-character job ID', () => jobsTopics.update('dev', 'j'.repeat(65))],
    ['a shadow name with a slash', () => shadowTopic('dev', 'get', 'a/b')],
    ['another reserved shadow name', () => shadowTopic('dev', 'get', '$other')],
    ['a template name over 36 characters', () => provisioningTopics.registerThing('t'.repeat(37))],
    ['a CA ID that is not a SHA-256', () => eventTopics.certificateRegistered('abc')],
    ['a client ID with a wildcard', () => eventTopics.presence('connected', 'a+b')],
  ])('refuses %s', (_title, build) => {
    expect(build).toThrow(TopicNameError);
  });
});

describe('topicMatches', () => {
  it.each<[string, string, boolean]>([
    ['a/b/c', 'a/b/c', true],
    ['a/b/c', 'a/b', false],
    ['a/b', 'a/b/c', false],
    ['a/+/c', 'a/b/c', true],
    ['a/+/c', 'a/b/d', false],
    ['a/+', 'a/b/c', false],
    ['a/#', 'a/b/c', true],
    ['a/#', 'a', true],
    ['#', 'a/b', true],
    ['+/+', 'a/b', true],
    ['+', '/a', false],
    ['+/a', '/a', true],
    ['#', '$aws/things/x/jobs/notify', false],
    ['+/things/#', '$aws/things/x', false],
    ['$aws/things/+/jobs/#', '$aws/things/dev-1/jobs/fw-1/update/accepted', true],
    ['$aws/things/+/shadow/name/+/update', '$aws/things/dev-1/shadow/name/$package/update', true],
    ['$aws/events/presence/+/+', '$aws/events/presence/connected/dev-1', true],
    ['a/b', 'a/+', false],
    ['a/b', '', false],
    ['A/b', 'a/b', false],
  ])('%s matches %s: %s', (filter, topic, expected) => {
    expect(topicMatches(filter, topic)).toBe(expected);
  });

  it.each(['', 'a/#/b', 'a#', 'a/b+', '+a', '#/a', 'a\u0000b'])('refuses the filter %j', (filter) => {
    expect(() => assertTopicFilter(filter)).toThrow(TopicFilterError);
    expect(() => topicMatches(filter, 'a/b')).toThrow(TopicFilterError);
  });
});
