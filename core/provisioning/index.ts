/**
 * Provisioning templates as code: the vocabulary and typed values, builders for JITP and fleet provisioning
 * templates, the validator, the evaluator, the claim policy, the provisioning role's permissions and the fleet
 * provisioning allow-list layout. Pure: no CDK, no AWS SDK.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/provision-template.html
 */
export * from './template';
export * from './validate';
export * from './evaluate';
export * from './build';
export * from './claim-policy';
export * from './role';
export * from './allow-list';
